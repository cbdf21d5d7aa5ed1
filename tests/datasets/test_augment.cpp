// Augmentation: the identity is exact plain normalisation; each op checked against what it must
// do (flip, shift, rotation by 0 and 90 degrees, greyscale, the colour adjustments, the random
// resized crop and its fallback); results depend on the seed and nothing else; always finite.
#include <catch2/catch.hpp>

#include "datasets/augment.hpp"
#include "datasets/augment_ops.hpp"
#include "datasets/resize.hpp"

#include <cmath>
#include <set>
#include <vector>

using namespace torus::datasets;

namespace {
// A (c, h, w) image with distinct, non-zero values.
std::vector<uint8_t> test_image(int c, int h, int w) {
  std::vector<uint8_t> img(size_t(c) * h * w);
  for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t(1 + (i * 37 + i / 7) % 254);
  return img;
}

std::vector<float> augmented(const std::vector<uint8_t>& img, int c, int h, int w, const AugmentConfig& cfg, uint64_t seed,
                             int out_h, int out_w) {
  std::vector<float> out(size_t(c) * out_h * out_w);
  augment_image(img.data(), c, h, w, cfg, seed, out.data(), out_h, out_w);
  return out;
}

std::vector<float> unit(const std::vector<uint8_t>& img) {
  std::vector<float> f(img.size());
  for (size_t i = 0; i < img.size(); ++i) f[i] = float(img[i]) / 255.0f;
  return f;
}

// augment with mean 0, std 1: the working image in [0, 1] itself
AugmentConfig raw_config() { return AugmentConfig{}; }
}  // namespace

TEST_CASE("with every op off, augment_image is plain normalisation", "[datasets][augment]") {
  const std::vector<uint8_t> img = test_image(3, 5, 7);
  AugmentConfig cfg;
  cfg.mean = {0.4914f, 0.4822f, 0.4465f};
  cfg.std = {0.2470f, 0.2435f, 0.2616f};
  CHECK_FALSE(cfg.any());
  const std::vector<float> out = augmented(img, 3, 5, 7, cfg, 123, 5, 7);
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 35; ++p) {
      const size_t i = size_t(c * 35 + p);
      REQUIRE(out[i] == (float(img[i]) / 255.0f - cfg.mean[size_t(c)]) / cfg.std[size_t(c)]);
    }
  CHECK(augmented(img, 3, 5, 7, cfg, 999, 5, 7) == out);  // no randomness at all
  // a different output size: resampled, then normalised
  AugmentConfig one;
  one.mean = {0.5f};
  one.std = {0.25f};
  const std::vector<float> big = augmented(img, 3, 5, 7, one, 0, 10, 3);
  std::vector<float> expect(3 * 10 * 3);
  resize_planes(unit(img).data(), 3, 5, 7, expect.data(), 10, 3);
  for (size_t i = 0; i < expect.size(); ++i) REQUIRE(big[i] == (expect[i] - 0.5f) / 0.25f);
}

TEST_CASE("any() reports each random op", "[datasets][augment]") {
  const auto with = [](auto set) {
    AugmentConfig c;
    set(c);
    return c.any();
  };
  CHECK(with([](AugmentConfig& c) { c.crop_padding = 4; }));
  CHECK(with([](AugmentConfig& c) { c.hflip_p = 0.5; }));
  CHECK(with([](AugmentConfig& c) { c.random_resized_crop.enabled = true; }));
  CHECK(with([](AugmentConfig& c) { c.rotate_degrees = 10; }));
  CHECK_FALSE(with([](AugmentConfig& c) { c.rotate_degrees = 10, c.rotate_p = 0; }));
  CHECK(with([](AugmentConfig& c) { c.color_jitter.hue = 0.1; }));
  CHECK_FALSE(with([](AugmentConfig& c) { c.color_jitter.brightness = 0.4, c.color_jitter.p = 0; }));
  CHECK(with([](AugmentConfig& c) { c.greyscale_p = 0.2; }));
}

TEST_CASE("horizontal flips", "[datasets][augment]") {
  const std::vector<uint8_t> img = test_image(3, 4, 5);
  std::vector<float> f = unit(img);
  const std::vector<float> original = f;
  hflip_planes(f.data(), 3, 4, 5);
  CHECK(f[0] == original[4]);
  CHECK(f[2 * 20 + 3 * 5 + 1] == original[2 * 20 + 3 * 5 + 3]);
  hflip_planes(f.data(), 3, 4, 5);
  CHECK(f == original);
  AugmentConfig cfg = raw_config();
  cfg.hflip_p = 1.0;
  std::vector<float> flipped = unit(img);
  hflip_planes(flipped.data(), 3, 4, 5);
  CHECK(augmented(img, 3, 4, 5, cfg, 5, 4, 5) == flipped);
  // p = 0.5 flips about half of the seeds
  cfg.hflip_p = 0.5;
  int flips = 0;
  for (uint64_t s = 0; s < 400; ++s) flips += augmented(img, 3, 4, 5, cfg, s, 4, 5) == flipped;
  CHECK(flips > 150);
  CHECK(flips < 250);
}

TEST_CASE("random crop with padding shifts the content exactly", "[datasets][augment]") {
  const int h = 6, w = 7, pad = 2;
  const std::vector<uint8_t> img = test_image(1, h, w);
  const std::vector<float> f = unit(img);
  std::vector<float> shifted(f.size());
  shift_planes(f.data(), 1, h, w, 1, -2, shifted.data());
  CHECK(shifted[0] == 0.0f);                 // (0, 0) shows (1, -2): outside
  CHECK(shifted[2] == f[1 * w + 0]);         // (0, 2) shows (1, 0)
  CHECK(shifted[5 * w + 6] == 0.0f);         // (5, 6) shows (6, 4): outside
  CHECK(shifted[4 * w + 6] == f[5 * w + 4]);

  AugmentConfig cfg = raw_config();
  cfg.crop_padding = pad;
  std::set<std::pair<int, int>> seen;
  for (uint64_t s = 0; s < 200; ++s) {
    const std::vector<float> out = augmented(img, 1, h, w, cfg, s, h, w);
    int matches = 0;
    for (int dy = -pad; dy <= pad; ++dy)
      for (int dx = -pad; dx <= pad; ++dx) {
        shift_planes(f.data(), 1, h, w, dy, dx, shifted.data());
        if (shifted == out) {
          ++matches;
          seen.insert({dy, dx});
        }
      }
    REQUIRE(matches == 1);  // exactly one shift in [-2, 2]^2 explains the output
  }
  CHECK(seen.size() == 25);  // and every one of them occurs
}

TEST_CASE("rotations: 0 degrees is exact, 90 degrees is a transpose and a flip", "[datasets][augment]") {
  const int n = 7;
  const std::vector<float> f = unit(test_image(3, n, n));
  std::vector<float> out(f.size());
  rotate_planes(f.data(), 3, n, n, 0.0, out.data());
  CHECK(out == f);
  // counter-clockwise by 90: output (y, x) shows input (x, n - 1 - y)
  rotate_planes(f.data(), 3, n, n, 90.0, out.data());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) REQUIRE(out[size_t((c * n + y) * n + x)] == Approx(f[size_t((c * n + x) * n + n - 1 - y)]).margin(1e-5));
  // four quarter turns come back
  std::vector<float> a = f, b(f.size());
  for (int k = 0; k < 4; ++k) {
    rotate_planes(a.data(), 3, n, n, 90.0, b.data());
    a.swap(b);
  }
  for (size_t i = 0; i < f.size(); ++i) REQUIRE(a[i] == Approx(f[i]).margin(1e-5));
  // 45 degrees on a non-square image: the corners leave the picture and become 0, the centre stays
  const int h = 5, w = 9;
  const std::vector<float> g = unit(test_image(1, h, w));
  std::vector<float> r(g.size());
  rotate_planes(g.data(), 1, h, w, 45.0, r.data());
  CHECK(r[0] == 0.0f);
  CHECK(r[size_t(h * w - 1)] == 0.0f);
  CHECK(r[size_t(2 * w + 4)] == Approx(g[size_t(2 * w + 4)]));
  // through augment_image: rotate_p = 0 never rotates, rotations differ by seed
  AugmentConfig cfg = raw_config();
  cfg.rotate_degrees = 30;
  cfg.rotate_p = 0;
  const std::vector<uint8_t> img = test_image(3, n, n);
  CHECK(augmented(img, 3, n, n, cfg, 1, n, n) == f);
  cfg.rotate_p = 1;
  CHECK(augmented(img, 3, n, n, cfg, 1, n, n) != augmented(img, 3, n, n, cfg, 2, n, n));
}

TEST_CASE("greyscale and colour adjustments", "[datasets][augment]") {
  const int h = 4, w = 4;
  const std::vector<uint8_t> img = test_image(3, h, w);
  const std::vector<float> f = unit(img);
  AugmentConfig cfg = raw_config();
  cfg.greyscale_p = 1;
  cfg.mean = {0.5f};
  cfg.std = {0.2f};
  const std::vector<float> grey = augmented(img, 3, h, w, cfg, 3, h, w);
  for (int p = 0; p < h * w; ++p) {
    CHECK(grey[size_t(p)] == grey[size_t(16 + p)]);
    CHECK(grey[size_t(p)] == grey[size_t(32 + p)]);
    const float luma = 0.299f * f[size_t(p)] + 0.587f * f[size_t(16 + p)] + 0.114f * f[size_t(32 + p)];
    CHECK(grey[size_t(p)] == Approx((luma - 0.5f) / 0.2f));
  }
  // greyscale does nothing to a 1-channel image
  const std::vector<uint8_t> one = test_image(1, h, w);
  AugmentConfig plain;
  plain.mean = {0.5f};
  plain.std = {0.2f};
  CHECK(augmented(one, 1, h, w, cfg, 3, h, w) == augmented(one, 1, h, w, plain, 3, h, w));

  std::vector<float> x = f;
  adjust_brightness(x.data(), 3, h, w, 0.5f);
  for (size_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == Approx(f[i] * 0.5f));
  adjust_brightness(x.data(), 3, h, w, 100.0f);
  for (float v : x) REQUIRE(v <= 1.0f);  // clamped
  x = f;
  adjust_contrast(x.data(), 3, h, w, 0.0f);  // every value becomes the mean grey
  for (float v : x) REQUIRE(v == Approx(x[0]));
  x = f;
  adjust_saturation(x.data(), h, w, 0.0f);  // saturation 0 is greyscale
  std::vector<float> y = f;
  to_greyscale(y.data(), h, w);
  for (size_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == Approx(y[i]).margin(1e-6));
  x = f;
  adjust_hue(x.data(), h, w, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == Approx(f[i]).margin(1e-6));
  // a third of a turn takes pure red to green and green to blue; grey stays grey
  float px[9] = {1, 0, 0.3f, 0, 1, 0.3f, 0, 0, 0.3f};  // (3, 1, 3): red, green, grey
  adjust_hue(px, 1, 3, 1.0f / 3.0f);
  CHECK(px[0] == Approx(0).margin(1e-6));
  CHECK(px[3] == Approx(1));
  CHECK(px[6] == Approx(0).margin(1e-6));
  CHECK(px[1] == Approx(0).margin(1e-6));
  CHECK(px[4] == Approx(0).margin(1e-6));
  CHECK(px[7] == Approx(1));
  CHECK(px[2] == 0.3f);
  CHECK(px[5] == 0.3f);
  CHECK(px[8] == 0.3f);
}

TEST_CASE("random resized crop: the whole image when forced, the centre crop as fallback", "[datasets][augment]") {
  const std::vector<uint8_t> img = test_image(3, 8, 8);
  AugmentConfig cfg = raw_config();
  cfg.random_resized_crop.enabled = true;
  cfg.random_resized_crop.scale_min = cfg.random_resized_crop.scale_max = 1.0;
  cfg.random_resized_crop.ratio_min = cfg.random_resized_crop.ratio_max = 1.0;
  CHECK(augmented(img, 3, 8, 8, cfg, 11, 8, 8) == unit(img));
  std::vector<float> half(3 * 4 * 4);
  resize_planes(unit(img).data(), 3, 8, 8, half.data(), 4, 4);
  CHECK(augmented(img, 3, 8, 8, cfg, 11, 4, 4) == half);
  // ratio 4..5 never fits a square: the fallback is the centred 8 wide, 2 high crop (8 / 4)
  cfg.random_resized_crop.ratio_min = 4.0;
  cfg.random_resized_crop.ratio_max = 5.0;
  std::vector<float> centre(3 * 2 * 8), expect(3 * 4 * 4);
  const std::vector<float> f = unit(img);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 8; ++x) centre[size_t((c * 2 + y) * 8 + x)] = f[size_t((c * 8 + 3 + y) * 8 + x)];
  resize_planes(centre.data(), 3, 2, 8, expect.data(), 4, 4);
  CHECK(augmented(img, 3, 8, 8, cfg, 11, 4, 4) == expect);
  // the default scale and ratio: crops vary with the seed
  cfg.random_resized_crop = RandomResizedCrop{.enabled = true};
  const std::vector<uint8_t> large = test_image(3, 32, 32);
  std::set<std::vector<float>> distinct;
  for (uint64_t s = 0; s < 20; ++s) distinct.insert(augmented(large, 3, 32, 32, cfg, s, 6, 6));
  CHECK(distinct.size() == 20);
}

TEST_CASE("augmentation depends on the seed only, and is always finite", "[datasets][augment]") {
  AugmentConfig cfg;
  cfg.crop_padding = 3;
  cfg.hflip_p = 0.5;
  cfg.random_resized_crop.enabled = true;
  cfg.rotate_degrees = 180;
  cfg.rotate_p = 0.7;
  cfg.color_jitter = ColorJitter{.brightness = 0.9, .contrast = 0.9, .saturation = 3.0, .hue = 0.5, .p = 0.8};
  cfg.greyscale_p = 0.2;
  cfg.mean = {0.5f, 0.4f, 0.3f};
  cfg.std = {0.2f, 0.25f, 0.3f};
  REQUIRE(cfg.any());
  const std::vector<uint8_t> img = test_image(3, 12, 10);
  const std::vector<float> a = augmented(img, 3, 12, 10, cfg, 42, 9, 9);
  CHECK(augmented(img, 3, 12, 10, cfg, 42, 9, 9) == a);
  CHECK(augmented(img, 3, 12, 10, cfg, 43, 9, 9) != a);
  int finite = 0, in_range = 0, total = 0;
  for (uint64_t s = 0; s < 300; ++s) {
    std::vector<uint8_t> extreme = img;
    if (s % 3 == 1) std::fill(extreme.begin(), extreme.end(), 0);    // black: hue and saturation of grey
    if (s % 3 == 2) std::fill(extreme.begin(), extreme.end(), 255);  // white
    const std::vector<float> out = augmented(extreme, 3, 12, 10, cfg, sample_seed(7, 0, int64_t(s), 0), 9, 9);
    for (size_t i = 0; i < out.size(); ++i) {
      ++total;
      finite += std::isfinite(out[i]);
      const float x = out[i] * cfg.std[i / 81] + cfg.mean[i / 81];  // back to [0, 1]
      in_range += x >= -1e-5f && x <= 1.0f + 1e-5f;
    }
  }
  CHECK(finite == total);
  CHECK(in_range == total);
  // greyscale images take every op but saturation and hue
  AugmentConfig grey = cfg;
  grey.mean = {0.5f};
  grey.std = {0.2f};
  const std::vector<uint8_t> g = test_image(1, 12, 10);
  const std::vector<float> go = augmented(g, 1, 12, 10, grey, 5, 12, 10);
  for (float v : go) REQUIRE(std::isfinite(v));
}

TEST_CASE("sample seeds mix every argument", "[datasets][augment]") {
  std::set<uint64_t> seeds;
  for (uint64_t run : {0, 1})
    for (int64_t epoch : {0, 1, 2})
      for (int64_t index : {0, 1, 2, 1000000})
        for (int view : {0, 1}) seeds.insert(sample_seed(run, epoch, index, view));
  CHECK(seeds.size() == 2 * 3 * 4 * 2);
  CHECK(sample_seed(5, 6, 7, 1) == sample_seed(5, 6, 7, 1));
  CHECK(sample_seed(0, 1, 0, 0) != sample_seed(0, 0, 1, 0));  // arguments are not interchangeable
}

TEST_CASE("invalid augmentation settings are refused", "[datasets][augment]") {
  const std::vector<uint8_t> img = test_image(3, 4, 4);
  std::vector<float> out(48);
  const auto fails = [&](auto set) {
    AugmentConfig c;
    set(c);
    CHECK_THROWS_AS(augment_image(img.data(), 3, 4, 4, c, 0, out.data(), 4, 4), std::invalid_argument);
  };
  fails([](AugmentConfig& c) { c.mean = {0.1f, 0.2f}, c.std = {1.0f, 1.0f}; });
  fails([](AugmentConfig& c) { c.mean = {0.1f, 0.2f, 0.3f}; });  // std still has one value
  fails([](AugmentConfig& c) { c.std = {0.0f}; });
  fails([](AugmentConfig& c) { c.hflip_p = 1.5; });
  fails([](AugmentConfig& c) { c.color_jitter.hue = 0.6; });
  fails([](AugmentConfig& c) { c.color_jitter.brightness = -0.1; });
  fails([](AugmentConfig& c) { c.crop_padding = -1; });
  fails([](AugmentConfig& c) { c.random_resized_crop = {.enabled = true, .scale_min = 0.5, .scale_max = 0.2}; });
  fails([](AugmentConfig& c) { c.rotate_degrees = std::nan(""); });
  AugmentConfig ok;
  CHECK_THROWS_AS(augment_image(img.data(), 2, 4, 6, ok, 0, out.data(), 4, 6), std::invalid_argument);
  CHECK_THROWS_AS(augment_image(img.data(), 3, 4, 4, ok, 0, out.data(), 0, 4), std::invalid_argument);
}
