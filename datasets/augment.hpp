// Training-time augmentation of one uint8 image (C, H, W planar, C = 1 or 3) into normalised
// floats (C, out_h, out_w), following torchvision's transforms. The ops run in this fixed order,
// each only when it is on:
//   1. random_resized_crop: torchvision RandomResizedCrop (10 attempts, centre-crop fallback), the
//      crop resampled to (out_h, out_w); when it is off, the whole image is resampled if its size
//      differs from (out_h, out_w). Resampling is resize_planes (area when shrinking, bilinear
//      when growing).
//   2. crop_padding: RandomCrop(size, padding): zero padding on every side, then a crop of the
//      original size at a uniformly random offset (a shift by -p..p pixels per axis).
//   3. hflip_p: horizontal flip.
//   4. rotate_degrees / rotate_p: rotation by uniform(-degrees, degrees), counter-clockwise about
//      the image centre, bilinear, zero fill outside.
//   5. color_jitter: brightness, contrast, saturation, hue (the last two only for RGB) in a random
//      order, as ColorJitter, applied with probability p. Values are clamped to [0, 1] after each.
//   6. greyscale_p: RGB -> luma 0.299 R + 0.587 G + 0.114 B, replicated on the three channels.
//   7. normalisation (x / 255 - mean[c]) / std[c], always.
// Work is in float [0, 1] without torchvision's uint8 rounding between ops. Every random draw
// comes from `seed` alone (a splitmix64 stream), so results do not depend on threads or timing;
// sample_seed derives that seed from (run seed, epoch, index, view) so a resumed run sees the
// same data.
#pragma once

#include <cstdint>
#include <vector>

namespace torus::datasets {

struct RandomResizedCrop {
  bool enabled = false;
  double scale_min = 0.08, scale_max = 1.0;             // crop area as a fraction of the image
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;  // crop width / height (sampled log-uniform)
};

struct ColorJitter {
  double brightness = 0, contrast = 0, saturation = 0;  // factor uniform in [max(0, 1 - v), 1 + v]; 0 = off
  double hue = 0;                                       // shift uniform in [-hue, hue] turns, hue <= 0.5
  double p = 1.0;                                       // probability of jittering at all
};

struct AugmentConfig {
  int crop_padding = 0;  // pixels of zero padding for the random crop; 0 = off
  double hflip_p = 0;
  RandomResizedCrop random_resized_crop;
  double rotate_degrees = 0;  // 0 = off
  double rotate_p = 1.0;      // probability of rotating when rotate_degrees > 0
  ColorJitter color_jitter;
  double greyscale_p = 0;
  // Per-channel normalisation: one value for every channel, or one per channel.
  std::vector<float> mean = {0.0f}, std = {1.0f};

  // Whether any random op is on (with none, augment_image only normalises and resizes).
  bool any() const;
  // Throws std::invalid_argument for out-of-range settings or a mean/std that does not fit `channels`.
  void validate(int channels) const;
};

// src (channels, height, width) -> dst (channels, out_h, out_w); out sizes >= 1.
void augment_image(const uint8_t* src, int channels, int height, int width, const AugmentConfig& cfg, uint64_t seed,
                   float* dst, int out_h, int out_w);

// The seed of one augmented view: splitmix64 mixing of the four values.
uint64_t sample_seed(uint64_t run_seed, int64_t epoch, int64_t index, int view);

}  // namespace torus::datasets
