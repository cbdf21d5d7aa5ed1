#include "train/export/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace torus::train::exportq {

QuantizedMultiplier quantize_multiplier(double m) {
  if (!std::isfinite(m) || m < 0)
    throw std::invalid_argument("quantize_multiplier: the real multiplier must be finite and >= 0, got " + std::to_string(m));
  if (m == 0) return {};
  int shift = 0;
  const double q = std::frexp(m, &shift);  // m = q 2^shift, q in [0.5, 1)
  std::int64_t q_fixed = std::llround(q * double(std::int64_t(1) << 31));
  if (q_fixed == (std::int64_t(1) << 31)) {  // q rounded up to 1: renormalise
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) return {};  // below the smallest representable multiplier: it is 0
  if (shift > 30) throw std::invalid_argument("quantize_multiplier: multiplier " + std::to_string(m) + " is too large");
  return {std::int32_t(q_fixed), shift};
}

std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  const std::int32_t min = std::numeric_limits<std::int32_t>::min();
  if (a == min && b == min) return std::numeric_limits<std::int32_t>::max();  // the one product that overflows
  const std::int64_t ab = std::int64_t(a) * std::int64_t(b);
  const std::int64_t nudge = ab >= 0 ? (std::int64_t(1) << 30) : (1 - (std::int64_t(1) << 30));
  // Division truncates towards zero; with this nudge ties go towards +infinity (1.5 -> 2, -1.5 -> -1),
  // gemmlowp's exact behaviour, which TFLite's reference kernels share.
  return std::int32_t((ab + nudge) / (std::int64_t(1) << 31));
}

namespace {
// floor(x / 2^e) without relying on >> of a negative value (implementation-defined in C99):
// for x < 0, ~x = -x - 1 >= 0.
std::int32_t arithmetic_shift_right(std::int32_t x, int e) { return x >= 0 ? (x >> e) : ~(~x >> e); }
}  // namespace

std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  const std::int32_t mask = std::int32_t((std::int64_t(1) << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return arithmetic_shift_right(x, exponent) + (remainder > threshold ? 1 : 0);
}

std::int32_t multiply_by_quantized_multiplier(std::int32_t x, QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0;
  const int right = m.shift > 0 ? 0 : -m.shift;
  // x 2^left saturated (a multiply, not <<, since a negative left shift is undefined in C99)
  std::int64_t shifted = std::int64_t(x) * (std::int64_t(1) << left);
  shifted = std::clamp<std::int64_t>(shifted, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max());
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(std::int32_t(shifted), m.multiplier), right);
}

ActivationQuant choose_activation_quant(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  ActivationQuant q;
  q.scale = hi > lo ? (hi - lo) / 255.0 : 1.0;  // a layer that is 0 everywhere: any scale will do
  q.zero_point = std::int32_t(std::clamp<long>(std::lround(-128.0 - lo / q.scale), -128, 127));
  return q;
}

QuantizedWeights quantize_weights_per_channel(const float* w, int rows, int cols, int group) {
  if (rows <= 0 || cols <= 0 || group <= 0 || rows % group != 0)
    throw std::invalid_argument("quantize_weights_per_channel: bad shape (" + std::to_string(rows) + ", " +
                                std::to_string(cols) + ") for groups of " + std::to_string(group));
  QuantizedWeights q;
  q.values.resize(size_t(rows) * size_t(cols));
  q.scales.resize(size_t(rows));
  for (int g = 0; g < rows; g += group) {
    double max_abs = 0;
    for (int r = g; r < g + group; ++r)
      for (int c = 0; c < cols; ++c) max_abs = std::max(max_abs, std::fabs(double(w[size_t(r) * cols + c])));
    // Symmetric, [-127, 127] (not -128), as TFLite: the negated weight is always representable.
    const double scale = max_abs > 0 ? max_abs / 127.0 : 1.0;
    for (int r = g; r < g + group; ++r) {
      q.scales[size_t(r)] = scale;
      for (int c = 0; c < cols; ++c) {
        const size_t i = size_t(r) * cols + c;
        q.values[i] = std::int8_t(std::clamp<long>(std::lround(double(w[i]) / scale), -127, 127));
      }
    }
  }
  return q;
}

std::int32_t quantize_bias(double b, double scale) {
  const double v = std::round(b / scale);
  return std::int32_t(std::clamp(v, double(std::numeric_limits<std::int32_t>::min()),
                                 double(std::numeric_limits<std::int32_t>::max())));
}

std::int8_t requantize_relu(std::int32_t acc, QuantizedMultiplier m, std::int32_t zero_point) {
  std::int32_t v = multiply_by_quantized_multiplier(acc, m);
  if (v > 127 - zero_point) v = 127 - zero_point;
  if (v < 0) v = 0;
  return std::int8_t(zero_point + v);
}

std::int32_t fold_zero_point(std::int32_t bias_q, std::int32_t zero_point, const std::int8_t* w, int n) {
  std::int64_t sum = 0;
  for (int j = 0; j < n; ++j) sum += w[j];
  const std::int64_t b = std::int64_t(bias_q) - std::int64_t(zero_point) * sum;
  if (b < std::numeric_limits<std::int32_t>::min() || b > std::numeric_limits<std::int32_t>::max())
    throw std::range_error("torus-export: a folded bias (" + std::to_string(b) + ") overflows int32");
  return std::int32_t(b);
}

const std::array<std::uint32_t, 257>& atan_table() {
  static const std::array<std::uint32_t, 257> table = [] {
    std::array<std::uint32_t, 257> t{};
    for (int i = 0; i <= 256; ++i)
      t[size_t(i)] = std::uint32_t(std::llround(std::atan(i / 256.0) / (2 * std::numbers::pi) * 4294967296.0));
    return t;
  }();
  return table;
}

std::uint32_t integer_atan2_binary_angle(std::int32_t y, std::int32_t x) {
  const std::array<std::uint32_t, 257>& table = atan_table();
  // |x|, |y| as uint32 (correct for INT32_MIN too)
  const std::uint32_t ax = x < 0 ? 0u - std::uint32_t(x) : std::uint32_t(x);
  const std::uint32_t ay = y < 0 ? 0u - std::uint32_t(y) : std::uint32_t(y);
  if (ax == 0 && ay == 0) return 0;  // the zero vector: code 0 by definition
  const bool steep = ay > ax;       // second octant: angle = 1/4 turn - atan(ax / ay)
  std::uint32_t lo = steep ? ax : ay, hi = steep ? ay : ax;
  const bool off_axis = lo != 0;
  // Bring hi below 2^15 so that lo 2^16 fits 32 bits; the ratio keeps at least 14 significant bits.
  while (hi >= 32768u) {
    hi >>= 1;
    lo >>= 1;
  }
  // tan of the first-octant angle in Q16, [0, 65536], rounded to nearest (lo 2^16 + hi/2 < 2^32).
  const std::uint32_t t = ((lo << 16) + (hi >> 1)) / hi;
  const std::uint32_t i = t >> 8, f = t & 255u;
  // Linear interpolation, rounded; (table[i+1] - table[i]) < 2^22, times f < 2^8, fits 32 bits.
  std::uint32_t a = i >= 256 ? table[256] : table[i] + (((table[i + 1] - table[i]) * f + 128u) >> 8);
  // Off the axis the angle is strictly inside the octant, whatever the rounding: so a vector just
  // below the +x axis gets code 255 (not 0) once the reflections below turn a into 2^32 - a.
  if (a == 0 && off_axis) a = 1;
  if (steep) a = 0x40000000u - a;
  if (x < 0) a = 0x80000000u - a;
  if (y < 0) a = 0u - a;  // mod 2^32: the wraparound of the circle
  return a;
}

}  // namespace torus::train::exportq
