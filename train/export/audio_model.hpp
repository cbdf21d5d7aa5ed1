// The whole audio export model: int16 PCM of one crop -> integer log-mel front end
// (log_mel_int.hpp) -> int8 audio CNN (audio_net.hpp) -> torusN codes; and its float counterpart,
// datasets::log_mel on the same samples (x / 32768) normalised per band -> the folded float
// network -> codes. This is the interface the training side calls: numbers of the run (crop
// frames, LogMelConfig, per-band mean and std of input.json) and the float network, nothing read
// from files. Not here: reading a run folder (export_run.cpp), the C text (audio_codegen.hpp).
#pragma once

#include "datasets/log_mel.hpp"
#include "train/export/audio_net.hpp"
#include "train/export/log_mel_int.hpp"

#include <cstdint>
#include <vector>

namespace torus::train::exportq {

struct AudioInput {
  datasets::LogMelConfig log_mel;
  int crop_frames = 0;
  std::vector<float> mean, std;  // (n_mels) x = (dB - mean_b) / std_b
  int samples() const { return (crop_frames - 1) * log_mel.hop; }
};

// Throws std::invalid_argument naming the field when the numbers do not fit together.
void validate(const AudioInput& input);

// The float network input of a crop of PCM: (n_mels, crop_frames) normalised log-mel.
std::vector<float> float_network_input(const AudioInput& input, const std::int16_t* pcm);

// Activation ranges of the folded float network over crops (n, samples), in parallel over `threads`.
AudioRanges calibrate_audio(const AudioInput& input, const AudioCnnWeights& weights, const std::vector<std::int16_t>& crops,
                            int threads);

struct AudioModel {
  AudioInput input;
  IntLogMel front_end;
  InputQuantization input_quantization;
  Int8AudioCnn net;
};

AudioModel quantize_audio_model(const AudioInput& input, const AudioCnnWeights& weights, const AudioRanges& ranges);

// The C++ integer reference of the whole pipeline: codes (D/2) of one crop (input.samples() samples).
void audio_embed_pcm(const AudioModel& model, const std::int16_t* pcm, std::uint8_t* codes);
// The float model's codes of the same crop, as geometry::encode_angle quantises them.
void audio_float_codes(const AudioInput& input, const AudioCnnWeights& weights, const std::int16_t* pcm, std::uint8_t* codes);

// Codes (n, D/2) of crops (n, samples) by either path, in parallel.
std::vector<std::uint8_t> audio_int_codes(const AudioModel& model, const std::vector<std::int16_t>& crops, int threads);
std::vector<std::uint8_t> audio_float_codes(const AudioInput& input, const AudioCnnWeights& weights,
                                            const std::vector<std::int16_t>& crops, int threads);

// Crops of synthetic calls (datasets/synthetic_calls.hpp) at the run's sample rate, as int16:
// what the export calibrates on when it has no training audio at hand, and what the tests use.
std::vector<std::int16_t> synthetic_call_crops(const AudioInput& input, int count, std::uint64_t seed);

}  // namespace torus::train::exportq
