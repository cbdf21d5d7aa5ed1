// Spectrogram augmentation: crops (random, centre, tiled) from the right frames, each op doing
// what it says in dB, and every view fixed by its seed.
#include <catch2/catch.hpp>

#include "datasets/audio_augment.hpp"
#include "datasets/augment.hpp"

#include <cmath>
#include <numeric>
#include <set>

using namespace torus::datasets;

namespace {
// (n_mels, frames) with value 100 * band + frame: every value says where it came from.
std::vector<float> ramp(int n_mels, int64_t frames) {
  std::vector<float> s(size_t(n_mels * frames));
  for (int b = 0; b < n_mels; ++b)
    for (int64_t t = 0; t < frames; ++t) s[size_t(b * frames + t)] = float(100 * b + t);
  return s;
}
}  // namespace

TEST_CASE("crops take whole consecutive frames; short clips are tiled", "[datasets][audio]") {
  const std::vector<float> s = ramp(3, 10);
  const std::vector<float> c = centre_crop(s, 3, 4);
  CHECK(c == std::vector<float>{3, 4, 5, 6, 103, 104, 105, 106, 203, 204, 205, 206});
  CHECK(centre_crop(ramp(1, 3), 1, 7) == std::vector<float>{0, 1, 2, 0, 1, 2, 0});
  const auto tiles = tile_crops(s, 3, 4);
  REQUIRE(tiles.size() == 3);
  CHECK(tiles[1][0] == 4);
  CHECK(tiles[2][0] == 6);  // the last window ends at the clip's end
  AudioAugmentConfig cfg;
  cfg.crop_frames = 4;
  std::set<float> starts;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const std::vector<float> v = augment_spectrogram(s, 3, nullptr, cfg, seed);
    REQUIRE(v.size() == 12);
    for (int b = 0; b < 3; ++b)
      for (int t = 1; t < 4; ++t) CHECK(v[size_t(b * 4 + t)] == v[size_t(b * 4)] + float(t));  // consecutive
    starts.insert(v[0]);
  }
  CHECK(starts == std::set<float>{0, 1, 2, 3, 4, 5, 6});  // every offset drawn, none past the end
  CHECK(augment_spectrogram(s, 3, nullptr, cfg, 7) == augment_spectrogram(s, 3, nullptr, cfg, 7));
  CHECK_THROWS_WITH(centre_crop(std::vector<float>(7), 3, 2), Catch::Contains("7 values") && Catch::Contains("3 bands"));
}

TEST_CASE("gain, noise, mixing and masks act in dB as stated", "[datasets][audio]") {
  const std::vector<float> quiet(size_t(4 * 50), -60.0f);
  AudioAugmentConfig g;
  g.gain_db = 6;
  const std::vector<float> louder = augment_spectrogram(quiet, 4, nullptr, g, 3);
  CHECK(louder[0] != -60.0f);
  CHECK(std::fabs(louder[0] + 60) <= 6);
  for (float v : louder) CHECK(v == louder[0]);  // one gain for the whole view
  // Noise at 0 dB SNR roughly doubles the mean power (+3 dB), never lowers a value.
  AudioAugmentConfig n;
  n.noise_p = 1, n.snr_db_min = 0, n.snr_db_max = 0;
  const std::vector<float> noisy = augment_spectrogram(quiet, 4, nullptr, n, 5);
  double power = 0;
  for (float v : noisy) {
    CHECK(v >= -60.0f);
    power += std::pow(10.0, v / 10);
  }
  CHECK(10 * std::log10(power / double(noisy.size())) == Approx(-57.0).margin(0.6));
  // Mixing an equally loud clip at 0 dB adds its power: +3.01 dB everywhere.
  AudioAugmentConfig m;
  m.mix_p = 1, m.mix_gain_db_min = 0, m.mix_gain_db_max = 0;
  const std::vector<float> mixed = augment_spectrogram(quiet, 4, &quiet, m, 9);
  for (float v : mixed) CHECK(v == Approx(-60 + 10 * std::log10(2.0)).margin(1e-4));
  // Masks fill whole frames and whole bands with the mean; at most the stated widths.
  AudioAugmentConfig s;
  s.time_masks = 1, s.time_mask = 5, s.freq_masks = 1, s.freq_mask = 2;
  const std::vector<float> r = ramp(4, 50);
  const float mean = float(std::accumulate(r.begin(), r.end(), 0.0) / double(r.size()));
  bool some_masked = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const std::vector<float> v = augment_spectrogram(r, 4, nullptr, s, seed);
    int masked_frames = 0, masked_bands = 0;
    for (int t = 0; t < 50; ++t) {
      bool all = true;
      for (int b = 0; b < 4; ++b) all = all && v[size_t(b * 50 + t)] == mean;
      masked_frames += all;
    }
    for (int b = 0; b < 4; ++b) {
      bool all = true;
      for (int t = 0; t < 50; ++t) all = all && v[size_t(b * 50 + t)] == mean;
      masked_bands += all;
    }
    CHECK(masked_bands <= 2);
    if (masked_bands < 4) CHECK(masked_frames <= 5);
    some_masked = some_masked || masked_frames > 0 || masked_bands > 0;
  }
  CHECK(some_masked);
}

TEST_CASE("a time shift rolls the crop by whole frames within its bound", "[datasets][audio]") {
  // One band, frames 0..29 holding their own index: a shifted crop is a rotation of the crop.
  std::vector<float> spec(30);
  for (int t = 0; t < 30; ++t) spec[size_t(t)] = float(t);
  AudioAugmentConfig c;
  c.crop_frames = 30;
  c.shift_frames = 5;
  std::set<int> shifts;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const std::vector<float> x = augment_spectrogram(spec, 1, nullptr, c, seed);
    REQUIRE(x.size() == 30);
    const int shift = (30 - int(x[0])) % 30;  // x[t] = spec[(t - shift) mod 30]
    for (int t = 0; t < 30; ++t) CHECK(x[size_t(t)] == spec[size_t((t - shift + 30) % 30)]);
    shifts.insert(shift > 15 ? shift - 30 : shift);
  }
  CHECK(*shifts.begin() == -5);
  CHECK(*shifts.rbegin() == 5);
  CHECK(shifts.size() == 11);
  c.shift_frames = 0;
  CHECK(augment_spectrogram(spec, 1, nullptr, c, 3) == spec);
}
