// Training batches prepared on a background thread while the caller trains on the previous one.
// One persistent worker prepares exactly the batch the caller will ask for next (one batch ahead);
// next() hands it over by swapping buffers, so steady-state training allocates nothing here.
// Everything in a batch is a function of (seed, epoch, index, view): the epoch's order comes from
// (seed, epoch) alone and each view's augmentation from sample_seed(seed, epoch, index, view), so
// results never depend on timing, and an epoch resumed at batch k repeats batches k.. exactly.
// An exception on the worker is rethrown by next() on the caller's thread. start_epoch and next
// are meant for one caller thread (the training loop); the class is not a shared queue.
#pragma once

#include "datasets/audio_augment.hpp"
#include "datasets/audio_folder.hpp"
#include "datasets/augment.hpp"
#include "datasets/batch_part.hpp"
#include "datasets/image_set.hpp"
#include "datasets/npy.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace torus::datasets {

struct Batch {
  int64_t count = 0, views = 1;                 // images in the batch (this part's, in data-parallel training), views per image
  int64_t channels = 0, height = 0, width = 0;  // for feature batches: channels = 1, height = 1, width = dim
  std::vector<float> pixels;                    // (views * count, C, H, W), view-major: rows v*count .. v*count+count-1 are view v
  std::vector<int> labels;                      // count
  std::vector<int64_t> indices;                 // count, the dataset indices
};

struct LoaderConfig {
  int64_t batch = 256;
  int views = 1;
  bool shuffle = true;
  bool drop_last = true;
  uint64_t seed = 0;
  int out_height = 0, out_width = 0;  // 0: the images' own size
  AugmentConfig augment;              // also carries mean / std used when augmentation is off
  // Spectrogram clips: crop_frames (required) and the augmentation; augment.mean / std then hold
  // one value per mel band.
  AudioAugmentConfig audio;
  // Data-parallel training: this process builds only part `part` of `parts` of every batch
  // (batch_part.hpp), every sample of it exactly as one process would (the same order, the same
  // per-sample seeds). batches_per_epoch() still counts global batches.
  int part = 0, parts = 1;
};

class BatchLoader {
 public:
  // Keeps a reference: `images` must outlive the loader and not change while it runs.
  BatchLoader(const ImageSet& images, LoaderConfig config);
  // Feature rows as (1, 1, dim) images: no augmentation and no normalisation, `views` identical
  // copies of each row. Keeps a reference, as above.
  BatchLoader(const FeatureSet& features, LoaderConfig config);
  // Log-mel clips as (1, n_mels, audio.crop_frames) inputs: each view a random crop augmented by
  // config.audio (a mixed-in clip is another clip of the same class, drawn from the view's seed),
  // then normalised per band by augment.mean / augment.std. Keeps a reference, as above.
  BatchLoader(const AudioFolder& clips, LoaderConfig config);
  // A temporary set would be gone before the first batch.
  BatchLoader(ImageSet&&, LoaderConfig) = delete;
  BatchLoader(FeatureSet&&, LoaderConfig) = delete;
  BatchLoader(AudioFolder&&, LoaderConfig) = delete;
  ~BatchLoader();  // stops and joins the worker, also mid-epoch and after an exception
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  int64_t batches_per_epoch() const;
  // Begins epoch `epoch` at batch `first_batch` (0 <= first_batch <= batches_per_epoch(); resuming
  // mid-epoch) and starts preparing that batch at once. The order is a Fisher-Yates permutation
  // drawn from a std::mt19937_64 seeded from (seed, epoch) (our own loop, not std::shuffle, whose
  // algorithm differs between standard libraries), or 0..n-1 without shuffling.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of this epoch, false at its end. Swaps into `out` (whose buffers are reused for
  // a later batch) and starts preparing the following one. After the worker failed, rethrows its
  // exception on every call until the next start_epoch.
  bool next(Batch& out);

 private:
  void validate_config() const;
  void run();  // the worker's loop
  void build(int64_t epoch, uint64_t generation, Batch& batch) const;  // fills batch for its batch.indices
  void build_clips(int64_t epoch, uint64_t generation, Batch& batch) const;

  const ImageSet* images_ = nullptr;
  const FeatureSet* features_ = nullptr;
  const AudioFolder* clips_ = nullptr;
  std::vector<std::vector<int64_t>> class_clips_;  // clips: indices of each class, for mixing
  LoaderConfig config_;
  int64_t n_ = 0;
  int out_h_ = 0, out_w_ = 0;

  std::mutex mutex_;
  std::condition_variable cv_;
  // Guarded by mutex_:
  std::vector<int64_t> order_;  // this epoch's permutation of 0..n-1
  int64_t epoch_ = -1;          // -1 before the first start_epoch
  uint64_t generation_ = 0;     // bumped by start_epoch: the worker drops batches of older ones
  int64_t next_batch_ = 0;      // the batch next() returns next
  int64_t requested_ = -1;      // the batch the worker should prepare, -1 when none is waiting
  bool ready_ = false;          // ready_batch_ holds batch next_batch_
  bool stop_ = false;
  std::exception_ptr error_;
  Batch ready_batch_;
  // Read by the worker without the lock, to abandon a batch that is no longer wanted.
  std::atomic<uint64_t> live_generation_{0};
  std::atomic<bool> stopping_{false};
  Batch work_;  // the worker's own buffers
  std::thread worker_;
};

// Normalised images (no augmentation: only norm.mean / norm.std are used) of [first, first + count)
// into `out`, (count, C, out_h, out_w); out_h / out_w 0 mean the images' own size.
void eval_batch(const ImageSet& images, int64_t first, int64_t count, const AugmentConfig& norm, int out_h, int out_w,
                std::vector<float>& out);

// The centre crop of clips [first, first + count), crop_frames wide, normalised per band by
// norm.mean / norm.std (n_mels values each), into `out` (count, 1, n_mels, crop_frames).
void audio_eval_batch(const AudioFolder& clips, int64_t first, int64_t count, const AugmentConfig& norm, int64_t crop_frames,
                      std::vector<float>& out);

}  // namespace torus::datasets
