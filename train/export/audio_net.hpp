// nn::make_audio_cnn with a torusN head, for torus-export, twice (as int8_net.hpp does for the conv net):
//   audio_float_forward  the float network with every batch norm (evaluation mode: running
//                        statistics) folded into the convolution before it, on the normalised
//                        log-mel input, written as plain loops in the integer pass's order; it
//                        measures the activation ranges for calibration and gives the float codes;
//   Int8AudioCnn         the post-training int8 network and audio_int8_forward, the C++ reference
//                        the generated C (audio_codegen.cpp, which runs it row by row) reproduces
//                        bit for bit.
// Integer pipeline per crop: int8 input (log_mel_int.hpp) -> per block, conv3x3 (int32, zero
// points folded into the bias) -> requant with ReLU as the clamp -> conv3x3 -> 2x2 max pool on the
// accumulators (floor, as nn::MaxPool2d; requant is monotone and the folded BN's sign is in the
// weights, so pooling first is exact) -> requant/ReLU; after the last block the global average
// pool as an int32 sum per channel requantised to int8, fc1 requant/ReLU, fc2 int32 h, then the
// integer atan2 of each pair (quantize.hpp). Not here: other heads (torus-export refuses them).
#pragma once

#include "nn/module.hpp"
#include "train/export/quantize.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace torus::train::exportq {

inline constexpr int kAudioBlocks = 4, kAudioConvs = 2 * kAudioBlocks;
// nn::BatchNorm's default epsilon, the one make_audio_cnn's layers use.
inline constexpr double kBatchNormEps = 1e-5;

struct AudioCnnShape {
  int n_mels = 0, frames = 0;  // input (1, n_mels, frames)
  int width = 0, dim = 0, hidden = 0;
  int channels(int block) const { return width << block; }
  // The input of block b is (in_channels(b), height(b), width_at(b)); block 4 is the last pooled output.
  int in_channels(int block) const { return block == 0 ? 1 : channels(block - 1); }
  int height(int block) const { return n_mels >> block; }
  int time(int block) const { return frames >> block; }
};

// Throws std::invalid_argument unless four 2x2 poolings leave at least one row and column.
void validate(const AudioCnnShape& shape);

// One convolution with its batch norm folded in: w' = w g / sqrt(v + eps), b' = beta - m g / sqrt(v + eps).
struct FoldedConv {
  int in_channels = 0, out_channels = 0;
  std::vector<float> w;  // (O, C, 3, 3)
  std::vector<float> b;  // (O)
};

struct AudioCnnWeights {
  AudioCnnShape shape;
  std::array<FoldedConv, kAudioConvs> conv;
  std::vector<float> fc1_w, fc1_b, fc2_w, fc2_b;  // (hidden, 8w), (hidden), (D, hidden), (D)
};

// Reads and folds the network's parameters and batch-norm buffers (names "backbone.<i>..." as
// make_audio_cnn lays them out, "head.fc1/fc2"); throws std::invalid_argument naming a missing or
// mis-shaped one. n_mels and frames are the crop's input size.
AudioCnnWeights audio_cnn_weights(nn::Module<float>& net, int n_mels, int frames, int width, int dim);

// Ranges the calibration measures: the normalised input's min and max, and the maxima of every
// post-ReLU activation (their minima are 0).
struct AudioRanges {
  double input_lo = 0, input_hi = 0;
  std::array<double, kAudioConvs> conv{};
  double gap = 0, fc1 = 0;
  void merge(const AudioRanges& o);
};

// h (D) of one normalised input x (n_mels, frames); `ranges` (optional) is raised to its maxima.
void audio_float_forward(const AudioCnnWeights& w, const float* x, float* h, AudioRanges* ranges = nullptr);

struct Int8Conv {
  int in_channels = 0, out_channels = 0;
  std::vector<std::int8_t> w;                  // (O, C, 3, 3)
  std::vector<std::int32_t> b, mult, shift;    // (O) bias with the input zero point folded in; requantisation
  ActivationQuant act;                          // its output (post-ReLU, after pooling for the block's second)
};

struct Int8AudioCnn {
  AudioCnnShape shape;
  ActivationQuant input;                        // the network input x = scale (q - zero_point)
  std::array<Int8Conv, kAudioConvs> conv;
  ActivationQuant gap;                          // the pooled features
  std::int32_t gap_mult = 0, gap_shift = 0;     // sum_j (q_j - zp) of a channel -> gap int8: s / (H4 T4 s_gap)
  std::vector<std::int8_t> fc1_w, fc2_w;
  std::vector<std::int32_t> fc1_b, fc1_mult, fc1_shift, fc2_b;
  ActivationQuant fc1_act;
  std::vector<double> fc2_scale;                // (D) real h = fc2_scale h_int (equal within each pair)
};

Int8AudioCnn quantize_audio_cnn(const AudioCnnWeights& w, const AudioRanges& ranges);

// The integer forward pass on the quantised input x (n_mels, frames): h (D) and codes (D/2).
void audio_int8_forward(const Int8AudioCnn& net, const std::int8_t* x, std::int32_t* h, std::uint8_t* codes);

// Bytes of the two activation buffers the forward pass ping-pongs between (padded block inputs,
// and the padded output of each block's first convolution), and of one channel's accumulators.
struct AudioBuffers {
  std::size_t input = 0, middle = 0, accumulators = 0;
};
AudioBuffers audio_buffers(const AudioCnnShape& shape);

}  // namespace torus::train::exportq
