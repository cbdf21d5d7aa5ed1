// The background batch loader: coverage and order of an epoch, determinism across loaders and
// resumption, view-major augmented views, feature batches, errors from the worker reaching the
// caller, and shutdown at any point without hanging (each such test runs under its own deadline).
#include <catch2/catch.hpp>

#include "datasets/batch_loader.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <numeric>
#include <set>

using namespace torus::datasets;
using namespace std::chrono_literals;

namespace {
// n images of (channels, h, w) whose pixel 0 encodes the index; label i % 5.
ImageSet make_images(int64_t n, int channels = 3, int h = 6, int w = 6) {
  ImageSet s;
  s.n = n;
  s.channels = channels;
  s.height = h;
  s.width = w;
  s.classes = 5;
  s.pixels.resize(size_t(n * s.image_size()));
  for (size_t i = 0; i < s.pixels.size(); ++i) s.pixels[i] = uint8_t((i * 13 + i / 11) % 256);
  for (int64_t i = 0; i < n; ++i) {
    s.pixels[size_t(i * s.image_size())] = uint8_t(i);
    s.labels.push_back(int(i % 5));
  }
  return s;
}

LoaderConfig augmenting(uint64_t seed, int views) {
  LoaderConfig c;
  c.batch = 8;
  c.views = views;
  c.seed = seed;
  c.augment.crop_padding = 2;
  c.augment.hflip_p = 0.5;
  c.augment.color_jitter.brightness = 0.4;
  c.augment.mean = {0.5f, 0.4f, 0.3f};
  c.augment.std = {0.25f, 0.25f, 0.25f};
  return c;
}

std::vector<Batch> epoch_batches(BatchLoader& loader, int64_t epoch, int64_t first = 0) {
  loader.start_epoch(epoch, first);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

bool same(const Batch& a, const Batch& b) {
  return a.count == b.count && a.views == b.views && a.indices == b.indices && a.labels == b.labels && a.pixels == b.pixels;
}

// Runs f on another thread and fails (instead of hanging the suite) if it takes over 30 s.
template <class F>
void within_deadline(F f) {
  auto done = std::async(std::launch::async, f);
  REQUIRE(done.wait_for(30s) == std::future_status::ready);
  done.get();
}
}  // namespace

TEST_CASE("an epoch visits every image exactly once, with its label and pixels", "[datasets][loader]") {
  const ImageSet images = make_images(50);
  LoaderConfig cfg;
  cfg.batch = 8;
  cfg.drop_last = false;
  cfg.seed = 3;
  cfg.augment.mean = {0.5f};
  cfg.augment.std = {0.25f};
  BatchLoader loader(images, cfg);
  CHECK(loader.batches_per_epoch() == 7);
  const std::vector<Batch> batches = epoch_batches(loader, 0);
  REQUIRE(batches.size() == 7);
  CHECK(batches.back().count == 2);
  std::vector<int64_t> seen;
  for (const Batch& b : batches) {
    REQUIRE(b.channels == 3);
    REQUIRE(b.height == 6);
    REQUIRE(b.width == 6);
    REQUIRE(b.views == 1);
    REQUIRE(int64_t(b.labels.size()) == b.count);
    REQUIRE(int64_t(b.pixels.size()) == b.count * 108);
    std::vector<float> expect;
    for (int64_t i = 0; i < b.count; ++i) {
      const int64_t index = b.indices[size_t(i)];
      seen.push_back(index);
      CHECK(b.labels[size_t(i)] == index % 5);
      eval_batch(images, index, 1, cfg.augment, 0, 0, expect);
      CHECK(std::equal(expect.begin(), expect.end(), b.pixels.begin() + i * 108));
      CHECK(b.pixels[size_t(i * 108)] == (float(index) / 255.0f - 0.5f) / 0.25f);
    }
  }
  std::vector<int64_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(50);
  std::iota(all.begin(), all.end(), 0);
  CHECK(sorted == all);
  CHECK(seen != all);  // shuffled

  // the end of an epoch is sticky
  Batch b;
  CHECK_FALSE(loader.next(b));
  CHECK_FALSE(loader.next(b));
}

TEST_CASE("epoch order: new per epoch, repeated per (seed, epoch), plain without shuffle", "[datasets][loader]") {
  const ImageSet images = make_images(50);
  LoaderConfig cfg;
  cfg.batch = 8;  // drop_last: 6 batches, 48 images
  cfg.seed = 11;
  BatchLoader a(images, cfg), b(images, cfg);
  CHECK(a.batches_per_epoch() == 6);
  const auto order = [](const std::vector<Batch>& batches) {
    std::vector<int64_t> o;
    for (const Batch& x : batches) o.insert(o.end(), x.indices.begin(), x.indices.end());
    return o;
  };
  const std::vector<int64_t> e0 = order(epoch_batches(a, 0)), e1 = order(epoch_batches(a, 1));
  CHECK(e0.size() == 48);
  CHECK(std::set<int64_t>(e0.begin(), e0.end()).size() == 48);
  CHECK(e0 != e1);
  CHECK(order(epoch_batches(b, 1)) == e1);  // another loader, same (seed, epoch)
  CHECK(order(epoch_batches(a, 0)) == e0);  // an epoch repeated
  cfg.seed = 12;
  BatchLoader c(images, cfg);
  CHECK(order(epoch_batches(c, 0)) != e0);
  cfg.shuffle = false;
  BatchLoader plain(images, cfg);
  std::vector<int64_t> first48(48);
  std::iota(first48.begin(), first48.end(), 0);
  CHECK(order(epoch_batches(plain, 5)) == first48);
}

TEST_CASE("augmented views: view-major, deterministic, bit-identical across loaders and resumption", "[datasets][loader]") {
  const ImageSet images = make_images(40);
  const LoaderConfig cfg = augmenting(21, 2);
  BatchLoader a(images, cfg), b(images, cfg);
  const std::vector<Batch> full = epoch_batches(a, 2);
  REQUIRE(full.size() == 5);
  const std::vector<Batch> again = epoch_batches(b, 2);
  for (size_t k = 0; k < full.size(); ++k) CHECK(same(full[k], again[k]));

  // every row is augment_image of its index with the seed of (seed, epoch, index, view)
  int views_differ = 0;
  for (const Batch& batch : full) {
    REQUIRE(batch.views == 2);
    REQUIRE(batch.pixels.size() == size_t(2 * 8 * 108));
    std::vector<float> expect(108);
    for (int64_t v = 0; v < 2; ++v)
      for (int64_t i = 0; i < batch.count; ++i) {
        const int64_t index = batch.indices[size_t(i)];
        augment_image(images.pixels.data() + index * 108, 3, 6, 6, cfg.augment, sample_seed(21, 2, index, int(v)), expect.data(),
                      6, 6);
        REQUIRE(std::equal(expect.begin(), expect.end(), batch.pixels.begin() + (v * batch.count + i) * 108));
      }
    for (int64_t i = 0; i < batch.count; ++i)
      views_differ += !std::equal(batch.pixels.begin() + i * 108, batch.pixels.begin() + (i + 1) * 108,
                                  batch.pixels.begin() + (batch.count + i) * 108);
  }
  CHECK(views_differ >= 38);  // two views of an image are two augmentations

  // resuming at batch 3 gives batches 3.. of the uninterrupted epoch
  BatchLoader resumed(images, cfg);
  const std::vector<Batch> tail = epoch_batches(resumed, 2, 3);
  REQUIRE(tail.size() == 2);
  CHECK(same(tail[0], full[3]));
  CHECK(same(tail[1], full[4]));
  CHECK(epoch_batches(resumed, 2, 5).empty());
  // another epoch augments differently
  const std::vector<Batch> other = epoch_batches(a, 3);
  CHECK(other[0].pixels != full[0].pixels);

  // without augmentation the views are identical copies
  LoaderConfig off;
  off.batch = 8;
  off.views = 3;
  BatchLoader copies(images, off);
  const std::vector<Batch> c = epoch_batches(copies, 0);
  for (const Batch& batch : c)
    for (int64_t v = 1; v < 3; ++v)
      REQUIRE(std::equal(batch.pixels.begin(), batch.pixels.begin() + 8 * 108, batch.pixels.begin() + v * 8 * 108));
}

TEST_CASE("output size and feature batches", "[datasets][loader]") {
  const ImageSet grey = make_images(12, 1, 8, 8);
  LoaderConfig cfg;
  cfg.batch = 4;
  cfg.out_height = 4;
  cfg.out_width = 2;
  BatchLoader loader(grey, cfg);
  const std::vector<Batch> batches = epoch_batches(loader, 0);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].channels == 1);
  CHECK(batches[0].height == 4);
  CHECK(batches[0].width == 2);
  CHECK(batches[0].pixels.size() == 4 * 8);
  std::vector<float> expect;
  eval_batch(grey, batches[0].indices[0], 1, cfg.augment, 4, 2, expect);
  CHECK(std::equal(expect.begin(), expect.end(), batches[0].pixels.begin()));

  FeatureSet f;
  f.n = 10;
  f.dim = 3;
  f.classes = 2;
  for (int i = 0; i < 30; ++i) f.values.push_back(float(i) * 0.5f - 3.0f);
  for (int i = 0; i < 10; ++i) f.labels.push_back(i % 2);
  LoaderConfig fc;
  fc.batch = 4;
  fc.views = 2;
  fc.drop_last = false;
  fc.augment.crop_padding = 3;  // ignored for features
  BatchLoader features(f, fc);
  CHECK(features.batches_per_epoch() == 3);
  std::vector<int64_t> seen;
  for (const Batch& b : epoch_batches(features, 4)) {
    CHECK(b.channels == 1);
    CHECK(b.height == 1);
    CHECK(b.width == 3);
    REQUIRE(b.pixels.size() == size_t(2 * b.count * 3));
    for (int64_t v = 0; v < 2; ++v)
      for (int64_t i = 0; i < b.count; ++i) {
        const int64_t index = b.indices[size_t(i)];
        CHECK(b.labels[size_t(i)] == index % 2);
        for (int d = 0; d < 3; ++d) CHECK(b.pixels[size_t((v * b.count + i) * 3 + d)] == f.values[size_t(index * 3 + d)]);
      }
    seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  }
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("restarting and destroying the loader at any point does not hang", "[datasets][loader]") {
  const ImageSet images = make_images(600, 3, 16, 16);
  LoaderConfig cfg = augmenting(5, 2);
  cfg.batch = 100;
  cfg.augment.rotate_degrees = 20;
  within_deadline([&] {
    { BatchLoader never_started(images, cfg); }
    { BatchLoader just_started(images, cfg); just_started.start_epoch(0); }  // destroyed while the worker is busy
    {
      BatchLoader mid(images, cfg);
      mid.start_epoch(0);
      Batch b;
      REQUIRE(mid.next(b));
      REQUIRE(mid.next(b));
    }  // destroyed mid-epoch, the next batch in preparation
    // restarting mid-epoch abandons the old epoch; the new one is exact
    BatchLoader restarted(images, cfg), reference(images, cfg);
    for (int k = 0; k < 5; ++k) restarted.start_epoch(k);
    Batch b;
    restarted.start_epoch(1);
    REQUIRE(restarted.next(b));
    restarted.start_epoch(7, 2);
    REQUIRE(restarted.next(b));
    reference.start_epoch(7, 2);
    Batch r;
    REQUIRE(reference.next(r));
    CHECK(same(b, r));
  });
}

TEST_CASE("errors: bad settings at once, worker failures rethrown by next()", "[datasets][loader]") {
  ImageSet images = make_images(20);
  LoaderConfig cfg;
  cfg.batch = 4;
  LoaderConfig zero = cfg;
  zero.batch = 0;
  CHECK_THROWS_AS(BatchLoader(images, zero), std::invalid_argument);
  LoaderConfig bad_norm = cfg;
  bad_norm.augment.mean = {0.1f, 0.2f};
  bad_norm.augment.std = {1.0f, 1.0f};
  CHECK_THROWS_AS(BatchLoader(images, bad_norm), std::invalid_argument);
  ImageSet bad_labels = images;
  bad_labels.labels[7] = 5;
  CHECK_THROWS_WITH(BatchLoader(bad_labels, cfg), Catch::Contains("label 5 of image 7"));
  ImageSet empty;
  CHECK_THROWS_AS(BatchLoader(empty, cfg), std::invalid_argument);
  const FeatureSet no_features;
  CHECK_THROWS_AS(BatchLoader(no_features, cfg), std::invalid_argument);
  std::vector<float> out;
  CHECK_THROWS_AS(eval_batch(images, 18, 3, cfg.augment, 0, 0, out), std::out_of_range);

  within_deadline([&] {
    BatchLoader loader(images, cfg);
    Batch b;
    CHECK_THROWS_AS(loader.next(b), std::logic_error);  // no epoch yet
    CHECK_THROWS_AS(loader.start_epoch(0, 6), std::invalid_argument);
    // the set changes under the loader: the worker fails, next() rethrows, every time
    const std::vector<uint8_t> keep = images.pixels;
    images.pixels.resize(10);
    loader.start_epoch(0);
    CHECK_THROWS_WITH(loader.next(b), Catch::Contains("image set holds 10 pixels"));
    CHECK_THROWS_AS(loader.next(b), DataError);
    // repaired, a new epoch runs normally
    images.pixels = keep;
    loader.start_epoch(1);
    int count = 0;
    while (loader.next(b)) ++count;
    CHECK(count == 5);
    images.pixels.resize(10);
    loader.start_epoch(2);
  });  // and the loader is destroyed with the failure pending
}
