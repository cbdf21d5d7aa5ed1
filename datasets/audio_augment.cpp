#include "datasets/audio_augment.hpp"

#include "datasets/splitmix_rng.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace torus::datasets {

namespace {
int64_t frames_of(const std::vector<float>& spec, int n_mels) {
  if (n_mels < 1 || spec.empty() || spec.size() % size_t(n_mels) != 0)
    throw std::invalid_argument("audio augmentation: a spectrogram of " + std::to_string(spec.size()) +
                                " values is not a whole number of frames of " + std::to_string(n_mels) + " bands");
  return int64_t(spec.size()) / n_mels;
}

// crop_frames frames starting at `start` of the clip repeated end to end.
std::vector<float> window(const std::vector<float>& spec, int n_mels, int64_t start, int64_t crop_frames) {
  const int64_t frames = frames_of(spec, n_mels);
  std::vector<float> out(size_t(n_mels) * size_t(crop_frames));
  for (int b = 0; b < n_mels; ++b)
    for (int64_t t = 0; t < crop_frames; ++t)
      out[size_t(b * crop_frames + t)] = spec[size_t(b * frames + (start + t) % frames)];
  return out;
}

std::vector<float> random_crop(const std::vector<float>& spec, int n_mels, int64_t crop_frames, detail::Rng& rng) {
  const int64_t frames = frames_of(spec, n_mels);
  if (crop_frames == 0) return spec;
  const int64_t start = frames > crop_frames ? rng.integer(0, frames - crop_frames) : 0;
  return window(spec, n_mels, start, crop_frames);
}

double to_power(float db) { return std::pow(10.0, double(db) / 10); }
float to_db(double power) { return float(10 * std::log10(std::max(power, 1e-10))); }
}  // namespace

std::vector<float> centre_crop(const std::vector<float>& spec, int n_mels, int64_t crop_frames) {
  const int64_t frames = frames_of(spec, n_mels);
  return window(spec, n_mels, frames > crop_frames ? (frames - crop_frames) / 2 : 0, crop_frames);
}

std::vector<std::vector<float>> tile_crops(const std::vector<float>& spec, int n_mels, int64_t crop_frames) {
  const int64_t frames = frames_of(spec, n_mels);
  std::vector<std::vector<float>> out;
  if (frames <= crop_frames) return {window(spec, n_mels, 0, crop_frames)};
  for (int64_t start = 0;; start += crop_frames) {
    const int64_t s = std::min(start, frames - crop_frames);
    out.push_back(window(spec, n_mels, s, crop_frames));
    if (s == frames - crop_frames) break;
  }
  return out;
}

std::vector<float> augment_spectrogram(const std::vector<float>& spec, int n_mels, const std::vector<float>* other,
                                       const AudioAugmentConfig& c, uint64_t seed) {
  detail::Rng rng(seed);
  std::vector<float> x = random_crop(spec, n_mels, c.crop_frames, rng);
  const int64_t frames = int64_t(x.size()) / n_mels;
  if (c.shift_frames > 0) {
    // A circular roll: the crop keeps all its content, only its position in the window moves, as
    // a call heard a little earlier or later.
    const int64_t shift = rng.integer(-std::min<int64_t>(c.shift_frames, frames - 1), std::min<int64_t>(c.shift_frames, frames - 1));
    std::vector<float> rolled(x.size());
    for (int b = 0; b < n_mels; ++b)
      for (int64_t t = 0; t < frames; ++t)
        rolled[size_t(b * frames + (t + shift + frames) % frames)] = x[size_t(b * frames + t)];
    x.swap(rolled);
  }
  if (other && c.mix_p > 0 && rng.chance(c.mix_p)) {
    const std::vector<float> y = random_crop(*other, n_mels, frames, rng);
    const double gain = std::pow(10.0, rng.uniform(c.mix_gain_db_min, c.mix_gain_db_max) / 10);
    for (size_t i = 0; i < x.size(); ++i) x[i] = to_db(to_power(x[i]) + gain * to_power(y[i]));
  }
  if (c.noise_p > 0 && rng.chance(c.noise_p)) {
    double mean_power = 0;
    for (float v : x) mean_power += to_power(v);
    mean_power /= double(x.size());
    const double noise = mean_power * std::pow(10.0, -rng.uniform(c.snr_db_min, c.snr_db_max) / 10);
    // White noise's power in one band and frame is exponentially distributed about its mean.
    for (float& v : x) v = to_db(to_power(v) - noise * std::log(1 - rng.uniform()));
  }
  if (c.gain_db > 0) {
    const float g = float(rng.uniform(-c.gain_db, c.gain_db));
    for (float& v : x) v += g;
  }
  if (c.time_masks > 0 || c.freq_masks > 0) {
    const float mean = float(std::accumulate(x.begin(), x.end(), 0.0) / double(x.size()));
    for (int m = 0; m < c.time_masks; ++m) {
      const int64_t width = rng.integer(0, std::min<int64_t>(c.time_mask, frames));
      const int64_t start = rng.integer(0, frames - width);
      for (int b = 0; b < n_mels; ++b)
        for (int64_t t = start; t < start + width; ++t) x[size_t(b * frames + t)] = mean;
    }
    for (int m = 0; m < c.freq_masks; ++m) {
      const int64_t height = rng.integer(0, std::min<int64_t>(c.freq_mask, n_mels));
      const int64_t start = rng.integer(0, n_mels - height);
      for (int64_t b = start; b < start + height; ++b)
        for (int64_t t = 0; t < frames; ++t) x[size_t(b * frames + t)] = mean;
    }
  }
  return x;
}

}  // namespace torus::datasets
