#include "geometry/sphere.hpp"

#include <Eigen/LU>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>

namespace torus::geometry {

namespace {
// The eps of F.normalize: large enough that a zero row or pair gives 0 rather than NaN, small
// enough never to touch a real embedding.
constexpr double kNormFloor = 1e-12;

// Uniform in (0, 1] from the top 53 bits; never 0, so the log below stays finite.
double uniform_open_closed(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;
}

// Box-Muller on raw mt19937_64 output rather than std::normal_distribution, whose algorithm is
// left to the standard library: libstdc++ and libc++ would give different rotations for one seed.
double standard_normal(std::mt19937_64& rng) {
  const double r = std::sqrt(-2.0 * std::log(uniform_open_closed(rng)));
  return r * std::cos(2.0 * std::numbers::pi * uniform_open_closed(rng));
}
}  // namespace

template <typename T>
RowMatrix<T> l2_normalize_rows(const Eigen::Ref<const RowMatrix<T>>& h) {
  RowMatrix<T> z(h.rows(), h.cols());  // (N, D)
  for (Eigen::Index n = 0; n < h.rows(); ++n) z.row(n) = h.row(n) / std::max(h.row(n).norm(), T(kNormFloor));
  return z;
}

template <typename T>
RowMatrix<T> pair_normalize_rows(const Eigen::Ref<const RowMatrix<T>>& h) {
  if (h.cols() % 2 != 0) {
    throw std::invalid_argument(std::string("pair_normalize_rows: D must be even to form pairs, got ") +
                                shape_string(h.rows(), h.cols()));
  }
  RowMatrix<T> z(h.rows(), h.cols());  // (N, D)
  for (Eigen::Index n = 0; n < h.rows(); ++n) {
    for (Eigen::Index k = 0; k < h.cols() / 2; ++k) {
      const T x = h(n, 2 * k), y = h(n, 2 * k + 1);
      const T rho = std::max(std::sqrt(x * x + y * y), T(kNormFloor));
      z(n, 2 * k) = x / rho;
      z(n, 2 * k + 1) = y / rho;
    }
  }
  return z;
}

template <typename T>
RowMatrix<T> random_rotation(int D, std::uint64_t seed) {
  if (D < 1) throw std::invalid_argument(std::string("random_rotation: dimension D must be at least 1, got ") + std::to_string(D));
  std::mt19937_64 rng(seed);
  Eigen::MatrixXd G(D, D);  // filled row by row, so the draw order is part of the contract
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) G(i, j) = standard_normal(rng);

  // Always in double: the float rotation is the rounded double one, orthogonal to float precision.
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(G);
  Eigen::MatrixXd Q = qr.householderQ();
  // Householder QR fixes no signs; making diag(R) positive makes (Q, R) unique, hence Q a
  // function of G alone (and Haar-distributed on O(D), Mezzadri 2007).
  for (int j = 0; j < D; ++j)
    if (qr.matrixQR()(j, j) < 0) Q.col(j) *= -1.0;
  if (Q.determinant() < 0) Q.col(0) *= -1.0;  // O(D) -> SO(D): a rotation, not a reflection
  return Q.cast<T>();
}

template RowMatrix<float> l2_normalize_rows<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> l2_normalize_rows<double>(const Eigen::Ref<const RowMatrix<double>>&);
template RowMatrix<float> pair_normalize_rows<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> pair_normalize_rows<double>(const Eigen::Ref<const RowMatrix<double>>&);
template RowMatrix<float> random_rotation<float>(int, std::uint64_t);
template RowMatrix<double> random_rotation<double>(int, std::uint64_t);

}  // namespace torus::geometry
