// The data a training run sees, whatever its source: images (IDX, CIFAR, a folder of images) or
// feature vectors another model produced (.npy). A Split is one set of samples of either kind; a
// Dataset is what torus-train needs: the samples it trains on, the held-out queries that measure
// precision@1 each epoch, the references those queries search, and the test split when there
// is one.
#pragma once

#include "datasets/audio_augment.hpp"
#include "datasets/audio_folder.hpp"
#include "datasets/augment.hpp"
#include "datasets/image_set.hpp"
#include "datasets/npy.hpp"
#include "train/train_config.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::train {

// Fashion-MNIST's pixel mean and standard deviation (benchmarks.md): the normalisation of every
// Fashion-MNIST run and of torus-bench's workloads.
inline constexpr float kFashionMnistMean = 0.2860f, kFashionMnistStd = 0.3530f;

struct Split {
  bool is_images = true;
  bool is_audio = false;          // log-mel spectrograms of clips (is_images is then false)
  datasets::ImageSet images;      // when is_images
  datasets::FeatureSet features;  // when neither
  datasets::AudioFolder audio;    // when is_audio
  int64_t crop_frames = 0;        // audio: frames of one input (the centre crop at evaluation)

  int64_t size() const { return is_images ? images.n : is_audio ? audio.size() : features.n; }
  const std::vector<int>& labels() const { return is_images ? images.labels : is_audio ? audio.labels : features.labels; }
  // The sample's file relative to its folder or manifest (image and audio folders), "" otherwise.
  const std::vector<std::string>& files() const { return is_images ? images.files : audio.files; }
  // The input shape: (C, H, W), (1, n_mels, crop_frames) or (F).
  std::vector<int64_t> input_shape() const;
  // Model inputs of samples [first, first + count), no augmentation: normalised pixels
  // (count, C, H, W), centre crops normalised per mel band (count, 1, n_mels, crop_frames) (the
  // normalisation then holds a mean and std per band), or the feature rows (count, F).
  void inputs(int64_t first, int64_t count, const datasets::AugmentConfig& normalization, std::vector<float>& out) const;
  // The samples at `indices`, in that order.
  Split subset(const std::vector<int64_t>& indices) const;
};

struct Dataset {
  std::string name;
  Split train;       // what the optimiser sees
  Split queries;     // per-epoch precision@1 queries: held out from training, or the test split
  Split references;  // per-epoch references: training samples
  Split test;        // the test split (empty when the source has none)
  bool has_test = false;
  std::vector<int64_t> input_shape;  // (C, H, W) or (F)
  int classes = 0;
  std::vector<std::string> class_names;
  datasets::AugmentConfig normalization;  // the per-channel mean and std, every random op off
};

// Loads the configured dataset and splits it. The held-out queries and the references are drawn by
// a fixed seed (not train.seed), so runs with different seeds are measured on the same samples.
// Throws (datasets::DataError, ConfigError) with the file or key named.
Dataset load_dataset(const TrainConfig& config);

// Whether the configured source has a test split: always for the standard datasets, with
// data.test_path for folders, feature files and audio.
bool has_test_split(const TrainConfig& config);

// One split of the configured source only, for torus-embed: "train", "test", or for an audio folder
// with data.fewshot_classes "fewshot" (the clips of the held-out classes, from data.path). The
// train and test splits of such a folder leave those classes out.
Split load_split(const TrainConfig& config, const std::string& split, std::vector<std::string>* class_names = nullptr);

// An image folder's channels and side: data.channels and data.image_size, or where they are 0,
// what model.arch takes (1x28x28 for convnet, lenet5 and mlp; 3x32x32 for resnet20 and vgg11_bn).
struct FolderImageShape {
  int64_t channels, side;
};
FolderImageShape folder_image_shape(const TrainConfig& config);

// How many of the n training samples are held out as per-epoch queries: data.holdout_fraction of
// them (at least one), at most data.holdout; exactly data.holdout when the fraction is 0; none
// when data.holdout is 0 (the test split measures).
int64_t holdout_count(const TrainConfig& config, int64_t n);

// The per-channel mean and std of the configured source (images) with every random op off; for
// audio, no values: the per-band statistics come from the training clips (band_statistics).
datasets::AugmentConfig dataset_normalization(const TrainConfig& config);

// The mean and standard deviation of every mel band over all frames of the clips (what an audio
// run normalises its inputs with, computed on its training split and kept in input.json).
datasets::AugmentConfig band_statistics(const datasets::AudioFolder& clips);

// The classes data.fewshot_classes holds out (by name, sorted), drawn from the class list by a
// fixed seed; empty when the setting is 0. ConfigError when it would leave fewer than two classes.
std::vector<std::string> fewshot_class_names(const TrainConfig& config, const std::vector<std::string>& class_names);

// The file of an audio split's clip, from its `files` entry (relative to the folder, or to the
// manifest's folder; an absolute manifest path stays as it is).
std::string audio_clip_path(const TrainConfig& config, const std::string& split, const std::string& relative);

// The log-mel settings of an audio run.
datasets::AudioFolderOptions audio_options(const TrainConfig& config);

// The audio augmentation the configuration asks for (crop_frames included).
datasets::AudioAugmentConfig audio_augmentation(const TrainConfig& config);

// The training augmentation the configuration asks for, on top of the dataset's normalisation.
datasets::AugmentConfig augmentation(const TrainConfig& config, const datasets::AugmentConfig& normalization);

}  // namespace torus::train
