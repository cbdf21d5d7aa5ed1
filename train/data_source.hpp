// The data a training run sees, whatever its source: images (IDX, CIFAR, a folder of images) or
// feature vectors another model produced (.npy). A Split is one set of samples of either kind; a
// Dataset is what torus-train needs: the samples it trains on, the held-out queries that measure
// precision@1 each epoch, the references those queries search, and the test split when there
// is one.
#pragma once

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
  datasets::ImageSet images;      // when is_images
  datasets::FeatureSet features;  // otherwise

  int64_t size() const { return is_images ? images.n : features.n; }
  const std::vector<int>& labels() const { return is_images ? images.labels : features.labels; }
  // Model inputs of samples [first, first + count), no augmentation: normalised pixels
  // (count, C, H, W), or the feature rows (count, F).
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

// One split of the configured source only ("train" or "test"), for torus-embed.
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

// The per-channel mean and std of the configured source (images) with every random op off.
datasets::AugmentConfig dataset_normalization(const TrainConfig& config);

// The training augmentation the configuration asks for, on top of the dataset's normalisation.
datasets::AugmentConfig augmentation(const TrainConfig& config, const datasets::AugmentConfig& normalization);

}  // namespace torus::train
