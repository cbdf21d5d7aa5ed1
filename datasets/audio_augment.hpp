// Training-time augmentation of a log-mel spectrogram (n_mels, frames) in dB, on the cached
// features, so no clip is decoded twice. The ops run in this order, each only when it is on:
//   1. crop: a window of crop_frames frames at a uniformly random offset; a shorter clip is
//      repeated end to end first (tiling keeps its texture, where padding would add silence).
//   1b. shift: a circular roll by a uniform whole number of frames in [-shift_frames, shift_frames].
//   2. mix: with probability mix_p, another clip of the same class (cropped the same way) is added
//      in the power domain at a gain uniform in [mix_gain_db_min, mix_gain_db_max] relative to it.
//   3. noise: with probability noise_p, white noise whose power per band is the clip's mean power
//      lowered by an SNR uniform in [snr_db_min, snr_db_max] is added in the power domain.
//   4. gain: uniform in [-gain_db, gain_db] dB added to every value.
//   5. SpecAugment: time_masks masks of up to time_mask frames and freq_masks masks of up to
//      freq_mask bands, filled with the spectrogram's mean.
// Every draw comes from `seed` alone (sample_seed in augment.hpp), so a view is the same on every
// run and at any thread count. Evaluation uses centre_crop (one window) or tile_crops (all).
#pragma once

#include <cstdint>
#include <vector>

namespace torus::datasets {

struct AudioAugmentConfig {
  int64_t crop_frames = 0;  // 0: the whole clip
  int64_t shift_frames = 0;
  double mix_p = 0, mix_gain_db_min = -12, mix_gain_db_max = 0;
  double noise_p = 0, snr_db_min = 5, snr_db_max = 30;
  double gain_db = 0;
  int time_masks = 0, time_mask = 0;
  int freq_masks = 0, freq_mask = 0;
};

// One augmented view of `spec` ((n_mels, frames) row-major); `other` (may be null) is the clip
// mixed in, (n_mels, other_frames). Returns (n_mels, crop_frames or frames).
std::vector<float> augment_spectrogram(const std::vector<float>& spec, int n_mels, const std::vector<float>* other,
                                       const AudioAugmentConfig& config, uint64_t seed);

// The window of crop_frames frames at the centre (tiled first when the clip is shorter).
std::vector<float> centre_crop(const std::vector<float>& spec, int n_mels, int64_t crop_frames);

// Consecutive windows covering the clip (the last one ending at the clip's end), for evaluating a
// long recording as several crops.
std::vector<std::vector<float>> tile_crops(const std::vector<float>& spec, int n_mels, int64_t crop_frames);

}  // namespace torus::datasets
