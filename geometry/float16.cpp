#include "geometry/float16.hpp"

#include <bit>
#include <cmath>

namespace torus::geometry {

std::uint16_t float_to_half_bits(float x) {
  const std::uint32_t f = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint16_t>((f >> 16) & 0x8000u);
  const std::uint32_t a = f & 0x7fffffffu;  // |x|

  if (a >= 0x7f800000u) {  // infinity or NaN
    if (a == 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
    // Quiet bit set, so a payload living only in the 13 dropped bits cannot turn NaN into inf.
    return static_cast<std::uint16_t>(sign | 0x7c00u | 0x0200u | ((a >> 13) & 0x03ffu));
  }
  // 65520 = 0x477ff000 is halfway between the largest half, 65504, and 65536 = 2^16; the tie goes
  // to the even neighbour 2^16, which does not exist, so from 65520 up the result is infinity.
  if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);

  if (a < 0x38800000u) {  // below 2^-14, the smallest normal half: a subnormal or zero
    const std::uint32_t e = a >> 23;  // float biased exponent
    if (e < 102) return sign;         // |x| < 2^-25, at most half of the smallest subnormal 2^-24
    // |x| = mant 2^(e - 150) and the half's unit is 2^-24, so the code is mant >> (126 - e).
    const std::uint32_t mant = (a & 0x007fffffu) | 0x00800000u;
    const std::uint32_t shift = 126 - e;  // 14..24
    std::uint32_t q = mant >> shift;
    const std::uint32_t rest = mant & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (q & 1u))) ++q;  // may carry into 0x400, the smallest normal
    return static_cast<std::uint16_t>(sign | q);
  }

  // Normal: rebias the exponent (127 -> 15) and drop 13 mantissa bits with rounding. A carry out
  // of the mantissa correctly bumps the exponent; it cannot reach infinity (checked above).
  std::uint32_t h = (a >> 13) - (112u << 10);
  const std::uint32_t rest = a & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<std::uint16_t>(sign | h);
}

float half_bits_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu;
  const std::uint32_t m = h & 0x03ffu;
  if (e == 0) {
    // zero or subnormal m 2^-24: m is exact in float and the scaling is a power of two
    const float v = std::ldexp(static_cast<float>(m), -24);
    return sign ? -v : v;
  }
  if (e == 31) return std::bit_cast<float>(sign | 0x7f800000u | (m << 13));  // inf or NaN
  return std::bit_cast<float>(sign | ((e + 112u) << 23) | (m << 13));
}

RowMatrix<std::uint16_t> encode_half(const Eigen::Ref<const RowMatrix<float>>& x) {
  RowMatrix<std::uint16_t> h(x.rows(), x.cols());  // (N, M)
  for (Eigen::Index n = 0; n < x.rows(); ++n)
    for (Eigen::Index j = 0; j < x.cols(); ++j) h(n, j) = float_to_half_bits(x(n, j));
  return h;
}

RowMatrix<float> decode_half(const Eigen::Ref<const RowMatrix<std::uint16_t>>& h) {
  RowMatrix<float> x(h.rows(), h.cols());  // (N, M)
  for (Eigen::Index n = 0; n < h.rows(); ++n)
    for (Eigen::Index j = 0; j < h.cols(); ++j) x(n, j) = half_bits_to_float(h(n, j));
  return x;
}

RowMatrix<float> half_round_trip(const Eigen::Ref<const RowMatrix<float>>& x) { return decode_half(encode_half(x)); }

}  // namespace torus::geometry
