// The post-training int8 quantisation maths of torus-export, as TFLite Micro / CMSIS-NN do it:
//   - a real multiplier M in (0, 2^31) becomes a Q31 fixed-point multiplier m in [2^30, 2^31) and a
//     power-of-two shift, M = m 2^(shift - 31); applying it to an int32 accumulator uses gemmlowp's
//     SaturatingRoundingDoublingHighMul (ties towards +infinity) then RoundingDivideByPOT (ties away
//     from zero);
//   - weights: symmetric int8 per output channel, scale = max|w| / 127;
//   - activations: asymmetric int8 with a zero point, scale = (max - min) / 255 over a range that
//     always contains 0 (so real 0, the ReLU floor and the padding, is exactly representable);
//   - the torusN angle of an integer pair as a uint8 code, by an integer atan2 (octant reduction
//     and a 257-entry arctangent table with linear interpolation, angles as uint32 binary angles
//     where 2^32 is one turn, so the wraparound of the circle is uint32 overflow).
// Every integer function here is written once more, token for token, in the generated C
// (codegen.cpp); the tests and torus-export --check hold the two to bit equality.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace torus::train::exportq {

// M = multiplier 2^(shift - 31); multiplier in [2^30, 2^31) or 0 (M = 0).
struct QuantizedMultiplier {
  std::int32_t multiplier = 0;
  int shift = 0;  // > 0: left shift before the high multiply; < 0: rounding right shift after it
};

// TFLite's QuantizeMultiplier: frexp, then round the mantissa to Q31. Throws std::invalid_argument
// for M < 0 or not finite. M below 2^-31 (after rounding) gives {0, 0}.
QuantizedMultiplier quantize_multiplier(double real_multiplier);

// gemmlowp: round(a b / 2^31) with ties towards +infinity, saturating the one overflow (a = b = INT32_MIN).
std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b);
// gemmlowp: round(x / 2^exponent), ties away from zero, 0 <= exponent <= 31.
std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent);
// x M with the rounding above; a left shift saturates to the int32 range.
std::int32_t multiply_by_quantized_multiplier(std::int32_t x, QuantizedMultiplier m);

// Asymmetric int8 activation quantisation: real = scale (q - zero_point), q in [-128, 127].
struct ActivationQuant {
  double scale = 1.0;
  std::int32_t zero_point = 0;
};
// The range [min(lo, 0), max(hi, 0)] over 255 steps, zero point rounded (TFLite's ChooseQuantizationParams).
ActivationQuant choose_activation_quant(double lo, double hi);

// Per-output-channel symmetric int8 weights of a (rows, cols) row-major matrix, one row per
// output channel, in groups of `group` consecutive rows sharing one scale (1: per channel; 2: the
// torusN pairs, whose two coordinates must share a scale for atan2 to see the true angle).
struct QuantizedWeights {
  std::vector<std::int8_t> values;  // (rows, cols)
  std::vector<double> scales;       // (rows): real w = scale q
};
QuantizedWeights quantize_weights_per_channel(const float* w, int rows, int cols, int group = 1);

// round(b / scale) saturated to int32.
std::int32_t quantize_bias(double b, double scale);

// An accumulator requantised to int8 with the ReLU as the lower clamp: the offset from the zero
// point is clamped to [0, 127 - zero_point] before the zero point is added, so nothing overflows.
std::int8_t requantize_relu(std::int32_t acc, QuantizedMultiplier m, std::int32_t zero_point);

// bias_q - zero_point sum_j w[j]: folds the input zero point into the bias, so the loops multiply
// raw int8 activations (exact, also at the padding, which holds the zero point). Throws
// std::range_error when the folded bias leaves int32.
std::int32_t fold_zero_point(std::int32_t bias_q, std::int32_t zero_point, const std::int8_t* w, int n);

// The first octant of atan in binary angles: table[i] = round(2^32 atan(i / 256) / (2 pi)), i = 0..256.
const std::array<std::uint32_t, 257>& atan_table();

// The angle of (x, y) as a uint32 binary angle (2^32 = one turn, counter-clockwise from +x), in
// integers only; (0, 0) gives 0. Accurate to about 2^-16 turn.
std::uint32_t integer_atan2_binary_angle(std::int32_t y, std::int32_t x);
// Off the axes the result is never exactly on an octant boundary, so the sign of y decides the side
// of angle 0 (y < 0 gives code 255 however small |y| is).
// Its uint8 code, floor(256 u): the top byte of the binary angle.
inline std::uint8_t integer_atan2_code(std::int32_t y, std::int32_t x) {
  return static_cast<std::uint8_t>(integer_atan2_binary_angle(y, x) >> 24);
}

}  // namespace torus::train::exportq
