// Training batches of spectrogram clips: crops of the configured width, normalised per band,
// the same for the same (seed, epoch, index, view), mixing only within a class; evaluation takes
// the centre crop.
#include <catch2/catch.hpp>

#include "datasets/batch_loader.hpp"

#include <cmath>
#include <set>

using namespace torus::datasets;

namespace {
// n_mels 4; clip i of class labels[i]: value 10 * class + band + frame / 100 (distinct per clip
// length too), frames = 20 + 3 i.
AudioFolder ramps(const std::vector<int>& labels) {
  AudioFolder s;
  s.n_mels = 4;
  s.class_names = {"a", "b", "c"};
  for (size_t i = 0; i < labels.size(); ++i) {
    const int frames = 20 + 3 * int(i);
    std::vector<float> x(size_t(4 * frames));
    for (int b = 0; b < 4; ++b)
      for (int t = 0; t < frames; ++t) x[size_t(b * frames + t)] = float(10 * labels[i] + b) + float(t) / 100;
    s.spectrograms.push_back(x);
    s.labels.push_back(labels[i]);
    s.files.push_back("clip" + std::to_string(i));
  }
  return s;
}
}  // namespace

TEST_CASE("audio batches: crops, band normalisation, determinism", "[datasets][audio]") {
  const AudioFolder clips = ramps({0, 0, 1, 1, 2, 2});
  LoaderConfig c;
  c.batch = 3, c.views = 2, c.seed = 7;
  c.augment.mean = {1, 2, 3, 4}, c.augment.std = {2, 2, 2, 2};
  c.audio.crop_frames = 8;
  BatchLoader loader(clips, c);
  CHECK(loader.batches_per_epoch() == 2);
  loader.start_epoch(0);
  Batch b;
  REQUIRE(loader.next(b));
  CHECK(b.channels == 1);
  CHECK(b.height == 4);
  CHECK(b.width == 8);
  REQUIRE(b.pixels.size() == size_t(2 * 3 * 4 * 8));
  for (int64_t v = 0; v < 2; ++v)
    for (int64_t i = 0; i < 3; ++i) {
      const int label = clips.labels[size_t(b.indices[size_t(i)])];
      const float* x = b.pixels.data() + (v * 3 + i) * 32;
      for (int band = 0; band < 4; ++band) {
        // (value - mean) / std of a contiguous crop of this clip's band: frames t0 .. t0 + 7.
        const float t0 = (x[band * 8] * 2 + float(band + 1) - float(10 * label + band)) * 100;
        CHECK(t0 == Approx(std::round(t0)).margin(1e-2));
        for (int t = 0; t < 8; ++t)
          CHECK(x[band * 8 + t] == Approx((float(10 * label + band) + (std::round(t0) + float(t)) / 100 - float(band + 1)) / 2).margin(1e-5));
      }
    }
  // The same epoch again gives the same bits; another epoch other crops.
  const std::vector<float> first = b.pixels;
  loader.start_epoch(0);
  Batch again;
  REQUIRE(loader.next(again));
  CHECK(again.pixels == first);
  CHECK(again.indices == b.indices);
  loader.start_epoch(1);
  REQUIRE(loader.next(again));
  CHECK(again.pixels != first);

  // The normalisation must have one mean and std per band; a crop length is required.
  LoaderConfig wrong = c;
  wrong.augment.mean = {0};
  CHECK_THROWS_WITH(BatchLoader(clips, wrong), Catch::Contains("per band"));
  LoaderConfig no_crop = c;
  no_crop.audio.crop_frames = 0;
  CHECK_THROWS_WITH(BatchLoader(clips, no_crop), Catch::Contains("crop_frames"));
}

TEST_CASE("audio batches mix only clips of the same class", "[datasets][audio]") {
  // Class 0 at 0 dB, class 1 at 40 dB: a mix across classes would raise class 0 by tens of dB.
  AudioFolder clips;
  clips.n_mels = 1;
  clips.class_names = {"quiet", "loud"};
  for (int i = 0; i < 8; ++i) {
    clips.spectrograms.push_back(std::vector<float>(16, i < 4 ? 0.0f : 40.0f));
    clips.labels.push_back(i < 4 ? 0 : 1);
    clips.files.push_back(std::to_string(i));
  }
  LoaderConfig c;
  c.batch = 8, c.views = 1;
  c.augment.mean = {0}, c.augment.std = {1};
  c.audio.crop_frames = 8;
  c.audio.mix_p = 1, c.audio.mix_gain_db_min = 0, c.audio.mix_gain_db_max = 0;
  BatchLoader loader(clips, c);
  loader.start_epoch(0);
  Batch b;
  REQUIRE(loader.next(b));
  for (int64_t i = 0; i < 8; ++i) {
    const float level = clips.labels[size_t(b.indices[size_t(i)])] == 0 ? 0.0f : 40.0f;
    // Two equal powers add to +3.01 dB.
    for (int t = 0; t < 8; ++t) CHECK(b.pixels[size_t(i * 8 + t)] == Approx(level + 10 * std::log10(2.0)).margin(1e-3));
  }
}

TEST_CASE("audio evaluation inputs are the normalised centre crops", "[datasets][audio]") {
  const AudioFolder clips = ramps({0, 1, 2});
  AugmentConfig norm;
  norm.mean = {0, 0, 0, 0}, norm.std = {1, 1, 1, 1};
  std::vector<float> out;
  audio_eval_batch(clips, 1, 2, norm, 10, out);
  REQUIRE(out.size() == size_t(2 * 4 * 10));
  // Clip 1 has 23 frames: the centre crop starts at (23 - 10) / 2 = 6.
  CHECK(out[0] == Approx(10 + 0.06f));
  CHECK(out[9] == Approx(10 + 0.15f));
  // Clip 2 (26 frames, class 2), band 3: starts at 8.
  CHECK(out[size_t(40 + 30)] == Approx(23 + 0.08f));
  // A clip shorter than the crop is repeated end to end.
  audio_eval_batch(clips, 0, 1, norm, 50, out);
  CHECK(out[20] == Approx(0.0f));
  CHECK(out[21] == Approx(0.01f));
  CHECK_THROWS(audio_eval_batch(clips, 2, 2, norm, 10, out));
}
