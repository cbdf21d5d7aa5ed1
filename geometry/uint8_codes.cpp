#include "geometry/uint8_codes.hpp"

#include "geometry/clifford_torus.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace torus::geometry {

template <typename T>
std::uint8_t encode_angle(T u) {
  // In double, where 256 u of any float is finite. floor(256 u) and its reduction mod 256 are
  // then exact integer arithmetic in floating point, so a slightly negative u lands in code 255
  // (wrap01 would round -1e-20 + 1 to 1 and fold it to code 0, one cell off the formula).
  const double cell = std::floor(256.0 * static_cast<double>(u));
  if (!std::isfinite(cell)) throw std::invalid_argument(std::string("encode_angle: 256 * u is not finite for u = ") + std::to_string(u));
  const double code = cell - 256.0 * std::floor(cell / 256.0);  // in {0, ..., 255}
  return static_cast<std::uint8_t>(code);
}

template <typename T>
T decode_angle(std::uint8_t q) {
  return static_cast<T>(q) / T(256);  // exact in float and double
}

template <typename T>
CodeMatrix encode_angles(const Eigen::Ref<const RowMatrix<T>>& u) {
  CodeMatrix q(u.rows(), u.cols());  // (N, K)
  for (Eigen::Index n = 0; n < u.rows(); ++n)
    for (Eigen::Index k = 0; k < u.cols(); ++k) q(n, k) = encode_angle(u(n, k));
  return q;
}

template <typename T>
RowMatrix<T> decode_angles(const Eigen::Ref<const CodeMatrix>& q) {
  RowMatrix<T> u(q.rows(), q.cols());  // (N, K)
  for (Eigen::Index n = 0; n < q.rows(); ++n)
    for (Eigen::Index k = 0; k < q.cols(); ++k) u(n, k) = decode_angle<T>(q(n, k));
  return u;
}

template <typename T>
CodeMatrix torusN_codes(const Eigen::Ref<const RowMatrix<T>>& z) {
  return encode_angles<T>(unwrap_pairs<T>(z));  // unwrap_pairs throws for odd D
}

template <typename T>
CodeMatrix torusC_codes(const Eigen::Ref<const RowMatrix<T>>& h) {
  return encode_angles<T>(h);
}

std::int32_t circular_l1(const std::uint8_t* a, const std::uint8_t* b, int K) {
  if (K < 0) throw std::invalid_argument(std::string("circular_l1: K must be >= 0, got ") + std::to_string(K));
  std::int32_t s = 0;
  // |int8| taken in int, where -128 becomes 128 instead of overflowing back to -128.
  for (int k = 0; k < K; ++k) s += std::abs(static_cast<int>(wrapped_code_diff(a[k], b[k])));
  return s;
}

CosineLut::CosineLut(int amplitude) : amplitude_(amplitude), table_{} {
  if (amplitude < 1 || amplitude > std::numeric_limits<std::int16_t>::max()) {
    throw std::invalid_argument(std::string("CosineLut: amplitude must be in [1, 32767], got ") + std::to_string(amplitude));
  }
  // Only the first quarter is computed; the rest follows from cos(2pi - x) = cos x and
  // cos(pi - x) = -cos x. std::lround is odd (half away from zero), so the table keeps both
  // symmetries exactly, which recomputing cos near pi and 2pi would not guarantee.
  for (int j = 0; j <= 64; ++j) {
    const auto v = static_cast<std::int16_t>(std::lround(amplitude * std::cos(2.0 * std::numbers::pi * j / 256.0)));
    table_[j] = v;
    table_[128 - j] = static_cast<std::int16_t>(-v);
  }
  for (int j = 129; j < 256; ++j) table_[j] = table_[256 - j];
}

std::int32_t CosineLut::similarity(const std::uint8_t* a, const std::uint8_t* b, int K) const {
  if (K < 0 || static_cast<std::int64_t>(K) * amplitude_ > std::numeric_limits<std::int32_t>::max()) {
    throw std::invalid_argument(std::string("CosineLut::similarity: K = ") + std::to_string(K) + " with amplitude " +
                                std::to_string(amplitude_) + " is negative or overflows the int32 sum");
  }
  std::int32_t s = 0;
  for (int k = 0; k < K; ++k) s += table_[static_cast<std::uint8_t>(a[k] - b[k])];
  return s;
}

template std::uint8_t encode_angle<float>(float);
template std::uint8_t encode_angle<double>(double);
template float decode_angle<float>(std::uint8_t);
template double decode_angle<double>(std::uint8_t);
template CodeMatrix encode_angles<float>(const Eigen::Ref<const RowMatrix<float>>&);
template CodeMatrix encode_angles<double>(const Eigen::Ref<const RowMatrix<double>>&);
template CodeMatrix torusN_codes<float>(const Eigen::Ref<const RowMatrix<float>>&);
template CodeMatrix torusN_codes<double>(const Eigen::Ref<const RowMatrix<double>>&);
template CodeMatrix torusC_codes<float>(const Eigen::Ref<const RowMatrix<float>>&);
template CodeMatrix torusC_codes<double>(const Eigen::Ref<const RowMatrix<double>>&);
template RowMatrix<float> decode_angles<float>(const Eigen::Ref<const CodeMatrix>&);
template RowMatrix<double> decode_angles<double>(const Eigen::Ref<const CodeMatrix>&);

}  // namespace torus::geometry
