// BatchLoader: one worker thread, one mutex and one condition variable. The worker prepares the
// batch `requested_` into its own buffers, then swaps them into `ready_batch_` unless start_epoch
// has moved on (the generation counter), in which case the result is dropped.
#include "datasets/batch_loader.hpp"

#include "datasets/shuffle.hpp"
#include "datasets/splitmix_rng.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <string>

namespace torus::datasets {

namespace {
// The ImageSet invariants the loader relies on; checked at construction and before every batch
// (the set is held by reference).
void check_images(const ImageSet& s) {
  if (s.n < 1 || (s.channels != 1 && s.channels != 3) || s.height < 1 || s.width < 1) {
    throw std::invalid_argument("BatchLoader: image set of " + std::to_string(s.n) + " images of (" + std::to_string(s.channels) +
                                ", " + std::to_string(s.height) + ", " + std::to_string(s.width) +
                                "), expected at least one image of 1 or 3 channels");
  }
  if (int64_t(s.pixels.size()) != s.n * s.image_size() || int64_t(s.labels.size()) != s.n) {
    throw DataError("BatchLoader: image set holds " + std::to_string(s.pixels.size()) + " pixels and " +
                    std::to_string(s.labels.size()) + " labels, expected " + std::to_string(s.n * s.image_size()) + " and " +
                    std::to_string(s.n));
  }
}

}  // namespace

BatchLoader::BatchLoader(const ImageSet& images, LoaderConfig config) : images_(&images), config_(std::move(config)) {
  check_images(images);
  for (int64_t i = 0; i < images.n; ++i) {
    if (images.labels[size_t(i)] < 0 || images.labels[size_t(i)] >= images.classes) {
      throw DataError("BatchLoader: label " + std::to_string(images.labels[size_t(i)]) + " of image " + std::to_string(i) +
                      " is outside [0, " + std::to_string(images.classes) + ")");
    }
  }
  n_ = images.n;
  out_h_ = config_.out_height > 0 ? config_.out_height : int(images.height);
  out_w_ = config_.out_width > 0 ? config_.out_width : int(images.width);
  validate_config();
  config_.augment.validate(int(images.channels));
  worker_ = std::thread(&BatchLoader::run, this);
}

BatchLoader::BatchLoader(const FeatureSet& features, LoaderConfig config) : features_(&features), config_(std::move(config)) {
  if (features.n < 1 || features.dim < 1 || int64_t(features.values.size()) != features.n * features.dim ||
      int64_t(features.labels.size()) != features.n) {
    throw std::invalid_argument("BatchLoader: feature set of " + std::to_string(features.n) + " rows of " +
                                std::to_string(features.dim) + " with " + std::to_string(features.values.size()) +
                                " values and " + std::to_string(features.labels.size()) +
                                " labels; expected at least one row, n * dim values and n labels");
  }
  n_ = features.n;
  out_h_ = 1;
  out_w_ = int(features.dim);
  validate_config();
  worker_ = std::thread(&BatchLoader::run, this);
}

namespace {
void check_band_normalization(const AudioFolder& clips, const AugmentConfig& norm, const char* who) {
  if (clips.n_mels < 1 || int64_t(norm.mean.size()) != clips.n_mels || int64_t(norm.std.size()) != clips.n_mels)
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(norm.mean.size()) + " means and " +
                                std::to_string(norm.std.size()) + " standard deviations for " + std::to_string(clips.n_mels) +
                                " mel bands; expected one of each per band");
  for (const float s : norm.std)
    if (!(s > 0)) throw std::invalid_argument(std::string(who) + ": a band's standard deviation is " + std::to_string(s) + ", expected > 0");
}

// (x - mean_b) / std_b of a (n_mels, frames) spectrogram into dst.
void normalize_bands(const std::vector<float>& x, int n_mels, const AugmentConfig& norm, float* dst) {
  const size_t frames = x.size() / size_t(n_mels);
  for (int b = 0; b < n_mels; ++b) {
    const float m = norm.mean[size_t(b)], inv = 1.0f / norm.std[size_t(b)];
    for (size_t t = 0; t < frames; ++t) dst[size_t(b) * frames + t] = (x[size_t(b) * frames + t] - m) * inv;
  }
}
}  // namespace

BatchLoader::BatchLoader(const AudioFolder& clips, LoaderConfig config) : clips_(&clips), config_(std::move(config)) {
  if (clips.size() < 1 || int64_t(clips.labels.size()) != clips.size() || int64_t(clips.files.size()) != clips.size())
    throw std::invalid_argument("BatchLoader: a clip set of " + std::to_string(clips.size()) + " spectrograms, " +
                                std::to_string(clips.labels.size()) + " labels and " + std::to_string(clips.files.size()) +
                                " files; expected at least one clip and one label and file per clip");
  if (config_.audio.crop_frames < 1)
    throw std::invalid_argument("BatchLoader: clips need a crop length (audio.crop_frames >= 1), got " +
                                std::to_string(config_.audio.crop_frames));
  check_band_normalization(clips, config_.augment, "BatchLoader");
  class_clips_.resize(size_t(clips.classes()));
  for (int64_t i = 0; i < clips.size(); ++i) {
    const int label = clips.labels[size_t(i)];
    if (label < 0 || label >= clips.classes())
      throw DataError("BatchLoader: label " + std::to_string(label) + " of clip " + clips.files[size_t(i)] + " is outside [0, " +
                      std::to_string(clips.classes()) + ")");
    if (clips.spectrograms[size_t(i)].empty() || clips.spectrograms[size_t(i)].size() % size_t(clips.n_mels) != 0)
      throw DataError("BatchLoader: clip " + clips.files[size_t(i)] + " holds " + std::to_string(clips.spectrograms[size_t(i)].size()) +
                      " values, not whole frames of " + std::to_string(clips.n_mels) + " bands");
    class_clips_[size_t(label)].push_back(i);
  }
  n_ = clips.size();
  out_h_ = clips.n_mels;
  out_w_ = int(config_.audio.crop_frames);
  validate_config();
  worker_ = std::thread(&BatchLoader::run, this);
}

void BatchLoader::validate_config() const {
  if (config_.parts < 1 || config_.part < 0 || config_.part >= config_.parts)
    throw std::invalid_argument("BatchLoader: part " + std::to_string(config_.part) + " of " + std::to_string(config_.parts) +
                                "; expected 0 <= part < parts");
  if (config_.batch < 1 || config_.views < 1 || config_.out_height < 0 || config_.out_width < 0) {
    throw std::invalid_argument("BatchLoader: batch " + std::to_string(config_.batch) + ", views " +
                                std::to_string(config_.views) + ", out size " + std::to_string(config_.out_height) + "x" +
                                std::to_string(config_.out_width) + "; expected batch >= 1, views >= 1, sizes >= 0");
  }
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

int64_t BatchLoader::batches_per_epoch() const {
  return config_.drop_last ? n_ / config_.batch : (n_ + config_.batch - 1) / config_.batch;
}

void BatchLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  const int64_t batches = batches_per_epoch();
  if (epoch < 0 || first_batch < 0 || first_batch > batches) {
    throw std::invalid_argument("BatchLoader::start_epoch: epoch " + std::to_string(epoch) + ", first batch " +
                                std::to_string(first_batch) + "; expected epoch >= 0 and first batch in [0, " +
                                std::to_string(batches) + "]");
  }
  // index -1 keeps the order's seed apart from every sample's seed
  std::vector<int64_t> order = seeded_permutation(config_.shuffle ? n_ : 0, sample_seed(config_.seed, epoch, -1, -1));
  if (!config_.shuffle) {
    order.resize(static_cast<size_t>(n_));
    for (int64_t i = 0; i < n_; ++i) order[size_t(i)] = i;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    order_.swap(order);
    epoch_ = epoch;
    live_generation_ = ++generation_;
    next_batch_ = first_batch;
    requested_ = first_batch < batches ? first_batch : -1;
    ready_ = false;
    error_ = nullptr;
  }
  cv_.notify_all();
}

bool BatchLoader::next(Batch& out) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (epoch_ < 0) throw std::logic_error("BatchLoader::next: call start_epoch first");
  if (error_) std::rethrow_exception(error_);
  if (next_batch_ >= batches_per_epoch()) return false;
  cv_.wait(lock, [&] { return ready_ || error_; });
  if (error_) std::rethrow_exception(error_);
  std::swap(out, ready_batch_);
  ready_ = false;
  ++next_batch_;
  if (next_batch_ < batches_per_epoch()) {
    requested_ = next_batch_;
    lock.unlock();
    cv_.notify_all();
  }
  return true;
}

void BatchLoader::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || (requested_ >= 0 && !ready_ && !error_); });
    if (stop_) return;
    const int64_t k = requested_, epoch = epoch_;
    const uint64_t generation = generation_;
    requested_ = -1;
    const int64_t first = k * config_.batch, count = std::min(config_.batch, n_ - first);
    const BatchPart mine = batch_part(count, config_.part, config_.parts);
    work_.indices.assign(order_.begin() + first + mine.first, order_.begin() + first + mine.first + mine.count);
    lock.unlock();

    std::exception_ptr error;
    try {
      build(epoch, generation, work_);
    } catch (...) {
      error = std::current_exception();
    }

    lock.lock();
    if (stop_) return;
    if (generation != generation_) continue;  // start_epoch was called meanwhile: not wanted
    if (error) {
      error_ = error;
    } else {
      std::swap(ready_batch_, work_);
      ready_ = true;
    }
    cv_.notify_all();
  }
}

void BatchLoader::build(int64_t epoch, uint64_t generation, Batch& b) const {
  const int64_t count = int64_t(b.indices.size()), views = config_.views;
  const bool images = images_ != nullptr;
  if (clips_) return build_clips(epoch, generation, b);
  b.count = count;
  b.views = views;
  b.channels = images ? images_->channels : 1;
  b.height = out_h_;
  b.width = out_w_;
  const int64_t size = b.channels * b.height * b.width;
  b.pixels.resize(size_t(views * count * size));
  b.labels.resize(size_t(count));
  if (images) check_images(*images_);
  const bool augment = images && config_.augment.any();

  for (int64_t v = 0; v < views; ++v)
    for (int64_t i = 0; i < count; ++i) {
      // A newer epoch or the destructor does not need the rest of this batch.
      if (stopping_ || live_generation_ != generation) return;
      const int64_t index = b.indices[size_t(i)];
      float* dst = b.pixels.data() + (v * count + i) * size;
      if (v > 0 && !augment) {  // identical views: copy view 0
        std::copy(b.pixels.data() + i * size, b.pixels.data() + (i + 1) * size, dst);
      } else if (images) {
        const ImageSet& s = *images_;
        augment_image(s.pixels.data() + index * s.image_size(), int(s.channels), int(s.height), int(s.width), config_.augment,
                      sample_seed(config_.seed, epoch, index, int(v)), dst, out_h_, out_w_);
      } else {
        const float* row = features_->values.data() + index * features_->dim;
        std::copy(row, row + features_->dim, dst);
      }
      if (v == 0) b.labels[size_t(i)] = images ? images_->labels[size_t(index)] : features_->labels[size_t(index)];
    }
}

void BatchLoader::build_clips(int64_t epoch, uint64_t generation, Batch& b) const {
  const AudioFolder& s = *clips_;
  const int64_t count = int64_t(b.indices.size()), views = config_.views;
  b.count = count, b.views = views;
  b.channels = 1, b.height = out_h_, b.width = out_w_;
  const int64_t size = int64_t(out_h_) * out_w_;
  b.pixels.resize(size_t(views * count * size));
  b.labels.resize(size_t(count));
  for (int64_t v = 0; v < views; ++v)
    for (int64_t i = 0; i < count; ++i) {
      if (stopping_ || live_generation_ != generation) return;
      const int64_t index = b.indices[size_t(i)];
      const uint64_t seed = sample_seed(config_.seed, epoch, index, int(v));
      // The clip mixed in: another of the same class (itself when the class has one clip).
      const std::vector<float>* other = nullptr;
      if (config_.audio.mix_p > 0) {
        const std::vector<int64_t>& same = class_clips_[size_t(s.labels[size_t(index)])];
        detail::Rng pick(seed ^ 0x6d69782d636c6970ULL);
        other = &s.spectrograms[size_t(same[size_t(pick.integer(0, int64_t(same.size()) - 1))])];
      }
      const std::vector<float> x = augment_spectrogram(s.spectrograms[size_t(index)], s.n_mels, other, config_.audio, seed);
      normalize_bands(x, s.n_mels, config_.augment, b.pixels.data() + (v * count + i) * size);
      if (v == 0) b.labels[size_t(i)] = s.labels[size_t(index)];
    }
}

void audio_eval_batch(const AudioFolder& clips, int64_t first, int64_t count, const AugmentConfig& norm, int64_t crop_frames,
                      std::vector<float>& out) {
  if (first < 0 || count < 0 || first + count > clips.size())
    throw std::out_of_range("audio_eval_batch: clips [" + std::to_string(first) + ", " + std::to_string(first + count) +
                            ") outside [0, " + std::to_string(clips.size()) + ")");
  if (crop_frames < 1) throw std::invalid_argument("audio_eval_batch: crop_frames " + std::to_string(crop_frames) + ", expected >= 1");
  check_band_normalization(clips, norm, "audio_eval_batch");
  const int64_t size = clips.n_mels * crop_frames;
  out.resize(size_t(count * size));
  for (int64_t i = 0; i < count; ++i)
    normalize_bands(centre_crop(clips.spectrograms[size_t(first + i)], clips.n_mels, crop_frames), clips.n_mels, norm,
                    out.data() + i * size);
}

void eval_batch(const ImageSet& images, int64_t first, int64_t count, const AugmentConfig& norm, int out_h, int out_w,
                std::vector<float>& out) {
  if (first < 0 || count < 0 || first + count > images.n) {
    throw std::out_of_range("eval_batch: images [" + std::to_string(first) + ", " + std::to_string(first + count) +
                            ") outside [0, " + std::to_string(images.n) + ")");
  }
  check_images(images);
  AugmentConfig plain;  // every random op off
  plain.mean = norm.mean;
  plain.std = norm.std;
  const int h = out_h > 0 ? out_h : int(images.height), w = out_w > 0 ? out_w : int(images.width);
  const int64_t size = images.channels * h * w;
  out.resize(size_t(count * size));
  for (int64_t i = 0; i < count; ++i) {
    augment_image(images.pixels.data() + (first + i) * images.image_size(), int(images.channels), int(images.height),
                  int(images.width), plain, 0, out.data() + i * size, h, w);
  }
}

}  // namespace torus::datasets
