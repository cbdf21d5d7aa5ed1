// The reference conv net (nn/models.hpp) with a torusN head, twice, for torus-export:
//   float_forward   the float network on raw uint8 pixels, written as plain loops in the same
//                   order as the integer one; it measures the activation ranges for calibration;
//   Int8ConvNet     the post-training int8 network (quantize.hpp) and its integer forward
//                   pass, the C++ reference that the generated C (codegen.cpp) reproduces
//                   bit for bit: same loops, same integer operations.
// Integer pipeline, per image: uint8 pixels (the dataset normalisation (x/255 - mean)/std folded
// into conv1's input scale and bias) -> conv1 int32 -> 2x2 max pool on the accumulators (requant
// is monotone, so pooling first is exact) -> requant to int8 with ReLU as the lower clamp ->
// conv2 -> pool -> requant/ReLU -> fc1 -> requant/ReLU -> fc2 int32 h (D) -> K = D/2 uint8 codes,
// integer atan2 of each pair. The pair normalisation does not change an angle, so it is skipped.
// Not here: other architectures or heads (torus-export refuses them), batch norm, float output.
#pragma once

#include "nn/models.hpp"
#include "train/export/quantize.hpp"

#include <cstdint>
#include <vector>

namespace torus::train::exportq {

inline constexpr int kSide = 28, kPixels = 784;      // input (1, 28, 28)
inline constexpr int kC1 = 32, kC2 = 64;             // conv channels
inline constexpr int kS1 = 14, kS2 = 7;              // sides after each pool
inline constexpr int kFlat = kC2 * kS2 * kS2;        // 3136
inline constexpr int kHidden = 128;

// FmnistConvNet's float weights, PyTorch layouts: conv (O, C, 3, 3), linear (out, in).
struct ConvNetWeights {
  int dim = 0;  // D
  std::vector<float> conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};
// Copies them out of the network (throws naming a missing or mis-shaped parameter).
ConvNetWeights convnet_weights(nn::FmnistConvNet<float>& net);

// The dataset normalisation x = (p / 255 - mean) / std of the single input channel.
struct InputNormalization {
  double mean = 0.0, std = 1.0;
};

// Maxima of the three post-ReLU activations (their minima are 0).
struct ActivationRanges {
  double act1 = 0, act2 = 0, act3 = 0;
  void merge(const ActivationRanges& o);
};

// h (D) of one image, the float network's fc2 output before the pair normalisation; `ranges`
// (optional) is raised to this image's activation maxima.
void float_forward(const ConvNetWeights& w, const InputNormalization& norm, const std::uint8_t* pixels, float* h,
                   ActivationRanges* ranges = nullptr);

struct Int8ConvNet {
  int dim = 0;                   // D
  std::int32_t input_zero_point = 0;
  double input_scale = 1.0;      // real input = input_scale (p - input_zero_point) (+ a residual folded into conv1's bias)
  // Per layer: int8 weights (PyTorch layout), int32 biases with the zero point of the layer's
  // input folded in (b - zp sum_j w_j, so the loops multiply raw int8 activations), and per
  // output channel the requantisation multiplier and shift; activations' scale and zero point.
  std::vector<std::int8_t> conv1_w, conv2_w, fc1_w, fc2_w;
  std::vector<std::int32_t> conv1_b, conv2_b, fc1_b, fc2_b;
  std::vector<std::int32_t> conv1_mult, conv2_mult, fc1_mult;
  std::vector<std::int32_t> conv1_shift, conv2_shift, fc1_shift;
  ActivationQuant act1, act2, act3;
  std::vector<double> fc2_scale;  // (D) real h = fc2_scale h_int (equal within each pair)
};

Int8ConvNet quantize_convnet(const ConvNetWeights& w, const InputNormalization& norm, const ActivationRanges& ranges);

// The integer forward pass: h (D) int32 and codes (D/2). Thread-safe (scratch on the stack).
void int8_forward(const Int8ConvNet& net, const std::uint8_t* pixels, std::int32_t* h, std::uint8_t* codes);

// floor(256 atan2(y, x) / 2 pi) mod 256 of the float pairs, as geometry::encode_angle does it.
void float_codes(const float* h, int dim, std::uint8_t* codes);

}  // namespace torus::train::exportq
