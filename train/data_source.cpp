#include "train/data_source.hpp"

#include "datasets/batch_loader.hpp"
#include "datasets/cifar.hpp"
#include "datasets/idx.hpp"
#include "datasets/audio_manifest.hpp"
#include "datasets/image_folder.hpp"
#include "datasets/shuffle.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace torus::train {

namespace {
// Held-out queries and per-epoch references are drawn with this seed, whatever train.seed is.
constexpr uint64_t kSplitSeed = 20261123;

const std::vector<std::string> kFashionNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::string default_path(const TrainConfig& c) {
  if (!c.path.empty()) return c.path;
  if (c.dataset == "fashion-mnist") return datasets::kFashionMnistDir;
  if (c.dataset == "mnist") return "/usr/share/datasets/mnist";
  return "data/" + c.dataset;  // CIFAR: cifar-10-batches-bin / cifar-100-binary under it
}

Split image_split(datasets::ImageSet set) {
  Split s;
  s.is_images = true;
  s.images = std::move(set);
  return s;
}

Split audio_split(datasets::AudioFolder set, int64_t crop_frames) {
  Split s;
  s.is_images = false;
  s.is_audio = true;
  s.audio = std::move(set);
  s.crop_frames = crop_frames;
  return s;
}

// data.cache, or the user's cache folder: features are per user and machine, never beside the
// recordings (an archive is often read-only or shared).
std::string feature_cache_dir(const TrainConfig& c) {
  if (!c.cache.empty()) return c.cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/torus/log-mel";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/torus/log-mel";
  return (std::filesystem::temp_directory_path() / "torus-log-mel").string();
}

bool is_manifest(const std::string& path) {
  return path.size() > 4 && (path.compare(path.size() - 4, 4, ".csv") == 0 || path.compare(path.size() - 4, 4, ".CSV") == 0);
}

// The classes of the training folder or manifest, all of them (held-out ones included).
std::vector<std::string> audio_classes(const TrainConfig& c) {
  if (!is_manifest(c.path)) return datasets::image_folder_classes(c.path);
  std::vector<std::string> names;
  for (const datasets::ManifestRow& r : datasets::read_audio_manifest(c.path)) names.push_back(r.label);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// The clips of `split` of an audio run: labels numbered over every class of the training source;
// "fewshot" keeps the held-out classes, the others leave them out.
Split load_audio_split(const TrainConfig& c, const std::string& split) {
  const std::string path = split == "test" ? c.test_path : c.path;
  if (path.empty()) throw ConfigError("data.test_path: the audio-folder dataset has no test split configured");
  const std::vector<std::string> classes = audio_classes(c);
  const std::vector<std::string> held_out = fewshot_class_names(c, classes);
  if (split == "fewshot" && held_out.empty())
    throw ConfigError("data.fewshot_classes: the fewshot split holds the classes it leaves out of training, and it is 0");
  datasets::AudioFolderOptions o = audio_options(c);
  // A test folder may lack some classes: labels always follow the training source's class list.
  datasets::AudioFolder all = is_manifest(path) ? datasets::load_audio_manifest(path, o, &classes)
                                                : datasets::load_audio_folder(path, o, &classes);
  for (const std::string& bad : all.skipped) std::fprintf(stderr, "torus: skipped %s\n", bad.c_str());
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < all.size(); ++i) {
    const std::string& name = classes[size_t(all.labels[size_t(i)])];
    const bool fewshot = std::binary_search(held_out.begin(), held_out.end(), name);
    if (fewshot == (split == "fewshot")) keep.push_back(i);
  }
  if (keep.empty()) throw datasets::DataError(path + ": no clip left for the " + split + " split");
  return audio_split(keep.size() == size_t(all.size()) ? std::move(all) : all.subset(keep), c.crop_frames);
}

Split feature_split(datasets::FeatureSet set) {
  Split s;
  s.is_images = false;
  s.features = std::move(set);
  return s;
}

}  // namespace

FolderImageShape folder_image_shape(const TrainConfig& c) {
  // The Fashion-MNIST family (the reference conv net, LeNet-5, the MLP) takes 1x28x28; the CIFAR
  // networks take 3x32x32. A setting the user gave wins; the network then says if it cannot take it.
  const bool mnist_family = c.arch == "convnet" || c.arch == "lenet5" || c.arch == "mlp";
  return {c.channels ? c.channels : mnist_family ? 1 : 3, c.image_size ? c.image_size : mnist_family ? 28 : 32};
}

int64_t holdout_count(const TrainConfig& c, int64_t n) {
  if (c.holdout == 0) return 0;
  if (c.holdout_fraction == 0) return c.holdout;
  return std::min(c.holdout, std::max<int64_t>(1, int64_t(c.holdout_fraction * double(n))));
}

std::vector<int64_t> Split::input_shape() const {
  if (is_images) return {images.channels, images.height, images.width};
  if (is_audio) return {1, audio.n_mels, crop_frames};
  return {features.dim};
}

std::string audio_clip_path(const TrainConfig& c, const std::string& split, const std::string& relative) {
  const std::string source = split == "test" ? c.test_path : c.path;
  const std::filesystem::path root = is_manifest(source) ? std::filesystem::path(source).parent_path() : std::filesystem::path(source);
  return (root / relative).string();  // an absolute `relative` replaces the root
}

datasets::AudioFolderOptions audio_options(const TrainConfig& c) {
  datasets::AudioFolderOptions o;
  o.mel.sample_rate = int(c.sample_rate);
  o.mel.n_fft = int(c.n_fft);
  o.mel.hop = int(c.hop);
  o.mel.n_mels = int(c.n_mels);
  o.mel.f_min = c.f_min, o.mel.f_max = c.f_max;
  o.mel.scale = c.mel_scale == "slaney" ? datasets::MelScale::slaney : datasets::MelScale::htk;
  o.mel.slaney_norm = c.mel_norm;
  o.cache_dir = feature_cache_dir(c);
  o.skip_bad = c.skip_bad;
  o.threads = int(c.threads);
  return o;
}

datasets::AudioAugmentConfig audio_augmentation(const TrainConfig& c) {
  datasets::AudioAugmentConfig a;
  a.crop_frames = c.crop_frames;
  a.shift_frames = c.time_shift;
  a.gain_db = c.gain_db;
  a.noise_p = c.noise_p, a.snr_db_min = c.snr_min, a.snr_db_max = c.snr_max;
  a.mix_p = c.mix_p;
  a.time_masks = int(c.time_masks), a.time_mask = int(c.time_mask);
  a.freq_masks = int(c.freq_masks), a.freq_mask = int(c.freq_mask);
  return a;
}

datasets::AugmentConfig band_statistics(const datasets::AudioFolder& clips) {
  const int bands = clips.n_mels;
  std::vector<double> sum(size_t(bands), 0.0), sum_sq(size_t(bands), 0.0);
  int64_t frames = 0;
  for (size_t i = 0; i < clips.spectrograms.size(); ++i) {
    const std::vector<float>& x = clips.spectrograms[i];
    const int64_t f = clips.frames(i);
    for (int b = 0; b < bands; ++b)
      for (int64_t t = 0; t < f; ++t) {
        const double v = x[size_t(b * f + t)];
        sum[size_t(b)] += v, sum_sq[size_t(b)] += v * v;
      }
    frames += f;
  }
  datasets::AugmentConfig a;
  a.mean.clear(), a.std.clear();  // the image default of one channel
  for (int b = 0; b < bands; ++b) {
    const double mean = sum[size_t(b)] / double(std::max<int64_t>(frames, 1));
    const double var = std::max(0.0, sum_sq[size_t(b)] / double(std::max<int64_t>(frames, 1)) - mean * mean);
    a.mean.push_back(float(mean));
    // A band that never changes (silence at the floor) keeps unit scale instead of dividing by 0.
    a.std.push_back(var > 1e-6 ? float(std::sqrt(var)) : 1.0f);
  }
  return a;
}

std::vector<std::string> fewshot_class_names(const TrainConfig& c, const std::vector<std::string>& class_names) {
  if (c.fewshot_classes == 0) return {};
  const int64_t n = int64_t(class_names.size());
  if (c.fewshot_classes > n - 2)
    throw ConfigError("data.fewshot_classes: " + std::to_string(c.fewshot_classes) + " held-out classes of " + std::to_string(n) +
                      " leave fewer than the 2 that contrastive training needs");
  const std::vector<int64_t> order = datasets::seeded_permutation(n, kSplitSeed + 2);
  std::vector<std::string> out;
  for (int64_t i = 0; i < c.fewshot_classes; ++i) out.push_back(class_names[size_t(order[size_t(i)])]);
  std::sort(out.begin(), out.end());
  return out;
}

void Split::inputs(int64_t first, int64_t count, const datasets::AugmentConfig& normalization,
                   std::vector<float>& out) const {
  if (first < 0 || count < 0 || first + count > size())
    throw std::out_of_range("Split::inputs: samples [" + std::to_string(first) + ", " + std::to_string(first + count) +
                            ") outside [0, " + std::to_string(size()) + ")");
  if (is_images) {
    datasets::eval_batch(images, first, count, normalization, int(images.height), int(images.width), out);
  } else if (is_audio) {
    datasets::audio_eval_batch(audio, first, count, normalization, crop_frames, out);
  } else {
    out.assign(features.values.begin() + first * features.dim, features.values.begin() + (first + count) * features.dim);
  }
}

Split Split::subset(const std::vector<int64_t>& indices) const {
  Split s;
  s.is_images = is_images;
  s.is_audio = is_audio;
  s.crop_frames = crop_frames;
  if (is_audio) {
    s.audio = audio.subset(indices);
  } else if (is_images) {
    auto& o = s.images;
    o.n = int64_t(indices.size()), o.channels = images.channels, o.height = images.height, o.width = images.width;
    o.classes = images.classes;
    o.class_names = images.class_names;
    const int64_t size = images.image_size();
    o.pixels.resize(size_t(o.n * size));
    for (size_t i = 0; i < indices.size(); ++i) {
      std::copy_n(images.pixels.begin() + indices[i] * size, size, o.pixels.begin() + int64_t(i) * size);
      o.labels.push_back(images.labels[size_t(indices[i])]);
      if (!images.files.empty()) o.files.push_back(images.files[size_t(indices[i])]);
    }
  } else {
    auto& o = s.features;
    o.n = int64_t(indices.size()), o.dim = features.dim, o.classes = features.classes;
    o.values.resize(size_t(o.n * o.dim));
    for (size_t i = 0; i < indices.size(); ++i) {
      std::copy_n(features.values.begin() + indices[i] * o.dim, o.dim, o.values.begin() + int64_t(i) * o.dim);
      o.labels.push_back(features.labels[size_t(indices[i])]);
    }
  }
  return s;
}

datasets::AugmentConfig dataset_normalization(const TrainConfig& c) {
  datasets::AugmentConfig a;
  if (c.dataset == "fashion-mnist") a.mean = {kFashionMnistMean}, a.std = {kFashionMnistStd};
  else if (c.dataset == "mnist") a.mean = {0.1307f}, a.std = {0.3081f};
  else if (c.dataset == "cifar10") a.mean = {0.4914f, 0.4822f, 0.4465f}, a.std = {0.2470f, 0.2435f, 0.2616f};
  else if (c.dataset == "cifar100") a.mean = {0.5071f, 0.4865f, 0.4409f}, a.std = {0.2673f, 0.2564f, 0.2762f};
  else if (c.dataset == "folder") {
    // ImageNet statistics, as the reference's albumentations Normalize() (method.md 6)
    if (folder_image_shape(c).channels == 1) a.mean = {0.449f}, a.std = {0.226f};
    else a.mean = {0.485f, 0.456f, 0.406f}, a.std = {0.229f, 0.224f, 0.225f};
  }
  return a;
}

datasets::AugmentConfig augmentation(const TrainConfig& c, const datasets::AugmentConfig& normalization) {
  datasets::AugmentConfig a = normalization;
  a.crop_padding = int(c.crop_padding);
  a.hflip_p = c.hflip;
  if (c.crop_scale_min > 0) {
    a.random_resized_crop.enabled = true;
    a.random_resized_crop.scale_min = c.crop_scale_min;
  }
  a.rotate_degrees = c.rotate;
  a.rotate_p = c.rotate_p;
  if (c.jitter > 0) {
    a.color_jitter.brightness = a.color_jitter.contrast = a.color_jitter.saturation = c.jitter;
    a.color_jitter.hue = c.jitter / 4;
    a.color_jitter.p = c.jitter_p;
  }
  a.greyscale_p = c.grey;
  return a;
}

Split load_split(const TrainConfig& c, const std::string& split, std::vector<std::string>* class_names) {
  const std::string path = default_path(c);
  Split s;
  if (c.dataset == "fashion-mnist" || c.dataset == "mnist") {
    s = image_split(datasets::load_fashion_mnist(split, path));
    if (c.dataset == "fashion-mnist") s.images.class_names = kFashionNames;
  } else if (c.dataset == "cifar10") {
    s = image_split(datasets::load_cifar10(path, split));
  } else if (c.dataset == "cifar100") {
    s = image_split(datasets::load_cifar100(path, split,
                                            c.cifar100_labels == "coarse" ? datasets::CifarLabels::coarse : datasets::CifarLabels::fine));
  } else if (c.dataset == "folder") {
    const std::string root = split == "train" ? c.path : c.test_path;
    if (root.empty()) throw ConfigError("data.test_path: the image-folder dataset has no test split configured");
    const FolderImageShape shape = folder_image_shape(c);
    const int side = int(shape.side), channels = int(shape.channels);
    // The test folder is labelled by the training folder's class names, never by its own list: a
    // test folder that lacks a class would otherwise shift every label after it.
    s = image_split(split == "train" ? datasets::load_image_folder(root, channels, side, side)
                                     : datasets::load_image_folder(root, channels, side, side,
                                                                   datasets::image_folder_classes(c.path)));
  } else if (c.dataset == "audio-folder") {
    s = load_audio_split(c, split);
  } else if (c.dataset == "features") {
    const std::string file = split == "train" ? c.path : c.test_path;
    const std::string labels = split == "train" ? c.labels : c.test_labels;
    if (file.empty()) throw ConfigError("data.test_path: the features dataset has no test split configured");
    s = feature_split(datasets::load_features(file, labels));
  } else {
    throw ConfigError("data.dataset: unknown dataset \"" + c.dataset + "\"");
  }
  if (class_names && s.is_images && !s.images.class_names.empty()) *class_names = s.images.class_names;
  if (class_names && s.is_audio) *class_names = s.audio.class_names;
  return s;
}

bool has_test_split(const TrainConfig& c) {
  return !((c.dataset == "folder" || c.dataset == "features" || c.dataset == "audio-folder") && c.test_path.empty());
}

Dataset load_dataset(const TrainConfig& c) {
  Dataset d;
  d.name = c.dataset;
  d.normalization = dataset_normalization(c);
  const Split all = load_split(c, "train", &d.class_names);
  d.has_test = has_test_split(c);
  if (d.has_test) d.test = load_split(c, "test");
  d.input_shape = all.input_shape();
  if (all.is_images) {
    d.classes = all.images.classes;
    d.normalization.validate(int(all.images.channels));
  } else if (all.is_audio) {
    d.classes = all.audio.classes();
  } else {
    d.classes = all.features.classes;
  }
  if (d.has_test && d.test.is_images &&
      (d.test.images.channels != all.images.channels || d.test.images.height != all.images.height ||
       d.test.images.width != all.images.width))
    throw datasets::DataError("the test split's images differ in shape from the training split's");
  if (d.has_test && !d.test.is_images && d.test.features.dim != all.features.dim)
    throw datasets::DataError(c.test_path + ": " + std::to_string(d.test.features.dim) + " features per row, the training file " +
                              std::to_string(all.features.dim));

  const int64_t n = all.size();
  if (c.holdout == 0 && !d.has_test)
    throw ConfigError("data.holdout: 0 measures on the test split, but this dataset has none (set data.test_path or a holdout)");
  const int64_t held_out = holdout_count(c, n);
  if (held_out >= n)
    throw ConfigError("data.holdout: " + std::to_string(held_out) + " held-out samples leave none of the " +
                      std::to_string(n) + " to train on");
  const std::vector<int64_t> order = datasets::seeded_permutation(n, kSplitSeed);
  if (held_out > 0) {
    std::vector<int64_t> held(order.begin(), order.begin() + held_out), kept(order.begin() + held_out, order.end());
    std::sort(held.begin(), held.end());
    std::sort(kept.begin(), kept.end());
    d.queries = all.subset(held);
    d.train = all.subset(kept);
  } else {
    d.queries = d.test;
    d.train = all;
  }
  const int64_t m = d.train.size();
  const int64_t refs = c.references == 0 ? m : std::min(c.references, m);
  std::vector<int64_t> pick = datasets::seeded_permutation(m, kSplitSeed + 1);
  pick.resize(size_t(refs));
  std::sort(pick.begin(), pick.end());
  d.references = d.train.subset(pick);
  // Audio inputs are normalised per mel band by the training clips' own statistics (held-out
  // queries excluded, as a test set would be).
  if (d.train.is_audio) d.normalization = band_statistics(d.train.audio);
  return d;
}

}  // namespace torus::train
