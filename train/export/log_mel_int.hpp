// The log-mel front end of datasets/log_mel.hpp in integers only, for the audio export: int16 PCM
// of one crop -> the int8 input of the network's first convolution. Per frame: reflect padding as
// log_mel does it, a Q30 periodic Hann window (the product exact in int64), a block exponent that scales the
// frame to 2^(29 - log2(N/2)) so that no FFT stage can overflow int32, an N/2-point complex radix-2
// FFT of the even/odd samples with Q30 twiddles and the real-input split, power in uint64, the
// sparse mel filterbank (per band: first bin, length, Q15 weights relative to the band's largest
// one), a block exponent per band so its weighted sum fits uint64, then 10 log10 by leading-bit
// count and a 257-entry table of 10 log10(1 + i/256) with linear interpolation, in Q16 dB that are
// absolute (every exponent and scale is added back), the floor, and per band one Q31 multiplier
// that applies (dB - mean_b) / std_b and the input quantisation of the first convolution.
// The same arithmetic is C text (log_mel_c()) that the generated C runs bit for bit.
// Not here: n_fft that is not a power of two (refused), float arithmetic at run time.
#pragma once

#include "datasets/log_mel.hpp"
#include "train/export/quantize.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::train::exportq {

inline constexpr int kDbFractionBits = 16;  // dB values are Q16

// Everything the integer front end needs, computed once from the float configuration.
struct IntLogMel {
  int n_fft = 0, log2_half = 0, hop = 0, n_mels = 0;
  int frame_headroom_bits = 0;  // T: a frame is scaled to |u| <= 2^T, T = 29 - log2(n_fft / 2)
  int mel_guard_bits = 0;       // 15 + ceil(log2(longest band)): the weighted sum of a band fits 63 bits
  std::vector<std::int32_t> window;     // (n_fft) Q30 periodic Hann (Q15 puts a floor 105 dB under a tone)
  std::vector<std::int32_t> cos_q30, sin_q30;  // (n_fft / 2) round(2^30 cos(2 pi k / n_fft)), sin likewise
  std::vector<std::uint16_t> bit_reverse;      // (n_fft / 2) the FFT's input permutation
  std::vector<std::int32_t> band_start, band_length, band_offset;  // (n_mels) bins of each band, into band_weights
  std::vector<std::int16_t> band_weights;      // concatenated Q15 weights, each band's largest = 32767
  std::vector<std::int32_t> band_db_offset;    // (n_mels) Q16 round(2^16 10 log10(w_max_b / 32767))
  std::vector<std::int32_t> log_table;         // (257) Q16 round(2^16 10 log10(1 + i / 256))
  std::int32_t db_per_octave_q16 = 0;          // round(2^16 10 log10 2)
  std::int32_t floor_db_q16 = 0;               // round(2^16 10 log10(floor))
  double floor = 0;
};

// Throws std::invalid_argument (naming the setting) unless validate() accepts the configuration
// and n_fft is a power of two.
IntLogMel make_int_log_mel(const datasets::LogMelConfig& config);

// Per band: q = clamp(zero_point + (dB_q16 - mean_q16_b) M_b, -128, 127), M_b = 1 / (2^16 std_b s)
// with (s, zero_point) the input quantisation of the first convolution.
struct InputQuantization {
  std::vector<std::int32_t> mean_q16;     // (n_mels)
  std::vector<std::int32_t> mult, shift;  // (n_mels) Q31 multipliers and shifts of M_b
  ActivationQuant quant;                  // real x = scale (q - zero_point)
};
InputQuantization make_input_quantization(const std::vector<float>& mean, const std::vector<float>& std,
                                          const ActivationQuant& quant);

// Samples of one crop for `frames` frames: (frames - 1) hop (log_mel_frames gives 1 + n / hop).
inline int crop_samples(const IntLogMel& fe, int frames) { return (frames - 1) * fe.hop; }

// The Q16 dB spectrogram (n_mels, frames) of `pcm` (n samples, n > n_fft / 2), frames = 1 + n / hop.
std::vector<std::int32_t> int_log_mel_db(const IntLogMel& fe, const std::int16_t* pcm, int n);

// The network input: out[b * row_stride + t] for band b and frame t, int8 per `iq`.
void int_log_mel_input(const IntLogMel& fe, const InputQuantization& iq, const std::int16_t* pcm, int n,
                       std::int8_t* out, int row_stride);

// The FFT alone, for its test: the n_fft / 2 + 1 bins of the real input `x` (int32, |x| <= 2^T),
// as twice the DFT (the split's division by 2 is left to the exponent), X2[k] = (re, im).
void int_real_fft_doubled(const IntLogMel& fe, const std::int32_t* x, std::int64_t* re, std::int64_t* im);

// The C99 of the front end (static functions "@p_..."), reading the constants of fe_constants
// and the scratch fields fft (int32, n_fft) and power (uint64, n_fft/2 + 1):
//   static void @p_log_mel_input(@p_scratch *m, const int16_t *pcm, int n, int8_t *out, int row_stride);
const char* log_mel_c();
// Slots (locals + parameters) of each function of log_mel_c(), for the stack bound.
int log_mel_c_functions();
int log_mel_c_slots();

}  // namespace torus::train::exportq
