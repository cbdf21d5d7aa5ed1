// augment_image: the fixed pipeline of augment.hpp over one float working image, with every random
// draw taken from one splitmix64 stream seeded by the caller.
#include "datasets/augment.hpp"

#include "datasets/augment_ops.hpp"
#include "datasets/resize.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "datasets/splitmix_rng.hpp"

namespace torus::datasets {

namespace {
using detail::Rng;
using detail::splitmix64;

struct Box {
  int top, left, height, width;
};

// torchvision RandomResizedCrop.get_params. Python's round() rounds half to even, as nearbyint.
Box resized_crop_box(Rng& rng, int height, int width, const RandomResizedCrop& c) {
  const double area = double(height) * width;
  const double log_lo = std::log(c.ratio_min), log_hi = std::log(c.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(c.scale_min, c.scale_max);
    const double ratio = std::exp(rng.uniform(log_lo, log_hi));
    const double wf = std::nearbyint(std::sqrt(target * ratio)), hf = std::nearbyint(std::sqrt(target / ratio));
    if (wf > 0 && wf <= width && hf > 0 && hf <= height) {
      const int w = int(wf), h = int(hf);
      const int top = int(rng.integer(0, height - h)), left = int(rng.integer(0, width - w));
      return {top, left, h, w};
    }
  }
  // Fallback: the largest centred crop whose ratio lies in range.
  const double in_ratio = double(width) / height;
  int w = width, h = height;
  if (in_ratio < c.ratio_min) {
    h = std::max(1, int(std::nearbyint(w / c.ratio_min)));
  } else if (in_ratio > c.ratio_max) {
    w = std::max(1, int(std::nearbyint(h * c.ratio_max)));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

[[noreturn]] void refuse(const std::string& what) { throw std::invalid_argument("AugmentConfig: " + what); }
bool probability(double p) { return p >= 0 && p <= 1; }
}  // namespace

bool AugmentConfig::any() const {
  const ColorJitter& j = color_jitter;
  const bool jitter = j.p > 0 && (j.brightness > 0 || j.contrast > 0 || j.saturation > 0 || j.hue > 0);
  return crop_padding > 0 || hflip_p > 0 || random_resized_crop.enabled || (rotate_degrees > 0 && rotate_p > 0) || jitter ||
         greyscale_p > 0;
}

// Called for every image, so messages are built only on failure.
void AugmentConfig::validate(int channels) const {
  if (channels != 1 && channels != 3) refuse("images must have 1 or 3 channels, got " + std::to_string(channels));
  if (crop_padding < 0 || crop_padding > 4096) refuse("crop_padding must lie in [0, 4096], got " + std::to_string(crop_padding));
  if (!probability(hflip_p) || !probability(rotate_p) || !probability(greyscale_p) || !probability(color_jitter.p)) {
    refuse("probabilities (hflip_p, rotate_p, greyscale_p, color_jitter.p) must lie in [0, 1]");
  }
  if (!(std::isfinite(rotate_degrees) && rotate_degrees >= 0)) refuse("rotate_degrees must be finite and >= 0");
  const ColorJitter& j = color_jitter;
  for (double v : {j.brightness, j.contrast, j.saturation}) {
    if (!(std::isfinite(v) && v >= 0)) refuse("color_jitter brightness, contrast and saturation must be finite and >= 0");
  }
  if (!(j.hue >= 0 && j.hue <= 0.5)) refuse("color_jitter.hue must lie in [0, 0.5], got " + std::to_string(j.hue));
  const RandomResizedCrop& r = random_resized_crop;
  if (r.enabled && !(r.scale_min > 0 && r.scale_min <= r.scale_max && std::isfinite(r.scale_max))) {
    refuse("random_resized_crop needs 0 < scale_min <= scale_max");
  }
  if (r.enabled && !(r.ratio_min > 0 && r.ratio_min <= r.ratio_max && std::isfinite(r.ratio_max))) {
    refuse("random_resized_crop needs 0 < ratio_min <= ratio_max");
  }
  if (!((mean.size() == 1 || mean.size() == size_t(channels)) && mean.size() == std.size())) {
    refuse("mean and std need 1 or " + std::to_string(channels) + " values each, got " + std::to_string(mean.size()) +
           " and " + std::to_string(std.size()));
  }
  for (size_t c = 0; c < mean.size(); ++c) {
    if (!(std::isfinite(mean[c]) && std::isfinite(std[c]) && std[c] > 0)) refuse("mean must be finite, std finite and > 0");
  }
}

void augment_image(const uint8_t* src, int channels, int height, int width, const AugmentConfig& cfg, uint64_t seed,
                   float* dst, int out_h, int out_w) {
  cfg.validate(channels);
  if (height < 1 || width < 1 || out_h < 1 || out_w < 1) {
    throw std::invalid_argument("augment_image: sizes must be >= 1, got " + std::to_string(height) + "x" +
                                std::to_string(width) + " -> " + std::to_string(out_h) + "x" + std::to_string(out_w));
  }
  const size_t in_size = size_t(channels) * height * width, out_size = size_t(channels) * out_h * out_w;
  std::vector<float> img(in_size), work(out_size);
  for (size_t i = 0; i < in_size; ++i) img[i] = float(src[i]) / 255.0f;
  Rng rng(seed);

  // 1. to the output size: a random resized crop, or the whole image
  if (cfg.random_resized_crop.enabled) {
    const Box b = resized_crop_box(rng, height, width, cfg.random_resized_crop);
    std::vector<float> crop(size_t(channels) * b.height * b.width);
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < b.height; ++y)
        for (int x = 0; x < b.width; ++x)
          crop[(size_t(c) * b.height + y) * b.width + x] = img[(size_t(c) * height + b.top + y) * width + b.left + x];
    resize_planes(crop.data(), channels, b.height, b.width, work.data(), out_h, out_w);
    img.swap(work);
  } else if (height != out_h || width != out_w) {
    resize_planes(img.data(), channels, height, width, work.data(), out_h, out_w);
    img.swap(work);
  }
  img.resize(out_size);
  work.resize(out_size);

  // 2. random crop with zero padding: an offset in [0, 2p] of the padded image is a shift in [-p, p]
  if (cfg.crop_padding > 0) {
    const int p = cfg.crop_padding;
    const int top = int(rng.integer(0, 2 * p)), left = int(rng.integer(0, 2 * p));
    shift_planes(img.data(), channels, out_h, out_w, top - p, left - p, work.data());
    img.swap(work);
  }
  // 3. horizontal flip
  if (cfg.hflip_p > 0 && rng.chance(cfg.hflip_p)) hflip_planes(img.data(), channels, out_h, out_w);
  // 4. rotation
  if (cfg.rotate_degrees > 0 && cfg.rotate_p > 0 && rng.chance(cfg.rotate_p)) {
    rotate_planes(img.data(), channels, out_h, out_w, rng.uniform(-cfg.rotate_degrees, cfg.rotate_degrees), work.data());
    img.swap(work);
  }
  // 5. colour jitter, the four adjustments in a random order (torchvision draws the order first)
  const ColorJitter& j = cfg.color_jitter;
  if (j.p > 0 && (j.brightness > 0 || j.contrast > 0 || j.saturation > 0 || j.hue > 0) && rng.chance(j.p)) {
    int order[4] = {0, 1, 2, 3};
    for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.integer(0, i)]);
    const auto factor = [&](double v) { return v > 0 ? float(rng.uniform(std::max(0.0, 1 - v), 1 + v)) : 1.0f; };
    const float brightness = factor(j.brightness), contrast = factor(j.contrast), saturation = factor(j.saturation);
    const float hue = j.hue > 0 ? float(rng.uniform(-j.hue, j.hue)) : 0.0f;
    for (int op : order) {
      if (op == 0 && j.brightness > 0) adjust_brightness(img.data(), channels, out_h, out_w, brightness);
      if (op == 1 && j.contrast > 0) adjust_contrast(img.data(), channels, out_h, out_w, contrast);
      if (op == 2 && j.saturation > 0 && channels == 3) adjust_saturation(img.data(), out_h, out_w, saturation);
      if (op == 3 && j.hue > 0 && channels == 3) adjust_hue(img.data(), out_h, out_w, hue);
    }
  }
  // 6. greyscale
  if (channels == 3 && cfg.greyscale_p > 0 && rng.chance(cfg.greyscale_p)) to_greyscale(img.data(), out_h, out_w);

  // 7. normalisation
  const size_t plane = size_t(out_h) * out_w;
  for (int c = 0; c < channels; ++c) {
    const float m = cfg.mean.size() == 1 ? cfg.mean[0] : cfg.mean[c], s = cfg.std.size() == 1 ? cfg.std[0] : cfg.std[c];
    for (size_t p = 0; p < plane; ++p) dst[c * plane + p] = (img[c * plane + p] - m) / s;
  }
}

uint64_t sample_seed(uint64_t run_seed, int64_t epoch, int64_t index, int view) {
  uint64_t h = splitmix64(run_seed);
  h = splitmix64(h ^ uint64_t(epoch));
  h = splitmix64(h ^ uint64_t(index));
  return splitmix64(h ^ uint64_t(int64_t(view)));
}

}  // namespace torus::datasets
