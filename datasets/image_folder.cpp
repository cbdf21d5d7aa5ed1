// Image folders: list every class and file first (so errors about the tree come before any
// decoding and the pixels are allocated once), then decode, convert to planar and resample.
#include "datasets/image_folder.hpp"

#include "datasets/folder_listing.hpp"
#include "datasets/image_file.hpp"
#include "datasets/resize.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

namespace torus::datasets {

namespace {
namespace fs = std::filesystem;

bool is_image_name(const std::string& name) { return detail::has_extension(name, {"png", "jpg", "jpeg"}); }
using detail::sorted_entries;

// Decodes one file into (channels, height, width) uint8 at `dst`.
void load_one(const fs::path& path, int channels, int height, int width, uint8_t* dst) {
  const Image img = read_image(path.string(), channels);
  // interleaved (h, w, c) uint8 -> planar (c, h, w) float, the layout resize_planes works on
  const size_t plane = size_t(img.height) * img.width;
  std::vector<float> planar(plane * channels), resized(size_t(channels) * height * width);
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < channels; ++c) planar[c * plane + p] = img.pixels[p * channels + c];
  resize_planes(planar.data(), channels, img.height, img.width, resized.data(), height, width);
  for (size_t i = 0; i < resized.size(); ++i) dst[i] = uint8_t(std::clamp(std::lround(resized[i]), 0L, 255L));
}

// The class folders of `root`, checked, in name order, after the requested layout is checked.
std::vector<std::string> class_folders(const std::string& root, int channels, int height, int width) {
  if (channels != 1 && channels != 3) {
    throw std::invalid_argument("load_image_folder: channels must be 1 or 3, got " + std::to_string(channels));
  }
  if (height < 1 || width < 1 || height > kMaxImageSide || width > kMaxImageSide) {
    throw std::invalid_argument("load_image_folder: output size " + std::to_string(height) + "x" + std::to_string(width) +
                                " is outside 1.." + std::to_string(kMaxImageSide));
  }
  return image_folder_classes(root);
}

// Decodes the images of the folders `found` (all listed first, so errors about the tree come
// before any decoding and the pixels are allocated once); folder f gets label labels[f].
ImageSet load_folders(const std::string& root, const std::vector<std::string>& found, const std::vector<int>& labels,
                      std::vector<std::string> class_names, int channels, int height, int width) {
  std::vector<std::vector<std::string>> files(found.size());
  int64_t total = 0;
  for (size_t c = 0; c < found.size(); ++c) {
    files[c] = sorted_entries(fs::path(root) / found[c], [](const fs::directory_entry& e) {
      std::error_code ec2;
      return !e.is_directory(ec2) && is_image_name(e.path().filename().string());
    });
    if (files[c].empty()) {
      throw DataError((fs::path(root) / found[c]).string() + ": class folder without images (expected .png, .jpg or .jpeg files)");
    }
    total += int64_t(files[c].size());
  }
  const int64_t image_bytes = int64_t(channels) * height * width;
  if (total > kMaxFolderPixelBytes / image_bytes) {
    throw DataError(root + ": " + std::to_string(total) + " images of " + std::to_string(channels) + "x" + std::to_string(height) +
                    "x" + std::to_string(width) + " need more than the " + std::to_string(kMaxFolderPixelBytes) +
                    "-byte limit of an image folder");
  }

  ImageSet set;
  set.n = total;
  set.channels = channels;
  set.height = height;
  set.width = width;
  set.classes = int(class_names.size());
  set.class_names = std::move(class_names);
  set.pixels.resize(size_t(total * set.image_size()));
  set.labels.reserve(size_t(total));
  set.files.reserve(size_t(total));
  for (size_t c = 0; c < found.size(); ++c)
    for (const std::string& name : files[c]) {
      load_one(fs::path(root) / found[c] / name, channels, height, width,
               set.pixels.data() + int64_t(set.labels.size()) * set.image_size());
      set.labels.push_back(labels[c]);
      set.files.push_back((fs::path(found[c]) / name).string());
    }
  return set;
}
}  // namespace

std::vector<std::string> image_folder_classes(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw DataError(root + ": image folder not found (expected a directory)");
  const std::vector<std::string> classes =
      sorted_entries(root, [](const fs::directory_entry& e) { std::error_code ec2; return e.is_directory(ec2); });
  if (classes.empty()) throw DataError(root + ": no class folders (expected one subfolder per class, found none)");
  if (classes.size() > size_t(kMaxFolderClasses)) {
    throw DataError(root + ": " + std::to_string(classes.size()) + " class folders, more than the limit of " +
                    std::to_string(kMaxFolderClasses));
  }
  return classes;
}

ImageSet load_image_folder(const std::string& root, int channels, int height, int width) {
  const std::vector<std::string> classes = class_folders(root, channels, height, width);
  std::vector<int> labels(classes.size());
  for (size_t c = 0; c < classes.size(); ++c) labels[c] = int(c);
  return load_folders(root, classes, labels, classes, channels, height, width);
}

ImageSet load_image_folder(const std::string& root, int channels, int height, int width,
                           const std::vector<std::string>& classes) {
  const std::vector<std::string> found = class_folders(root, channels, height, width);
  std::vector<int> labels;
  for (const std::string& name : found) {
    const auto at = std::find(classes.begin(), classes.end(), name);
    if (at == classes.end()) {
      std::string known;
      for (size_t i = 0; i < classes.size() && i < 20; ++i) known += (i ? ", " : "") + classes[i];
      if (classes.size() > 20) known += ", ...";
      throw DataError((fs::path(root) / name).string() + ": class folder \"" + name + "\" is not one of the " +
                      std::to_string(classes.size()) + " training classes (" + known + ")");
    }
    labels.push_back(int(at - classes.begin()));
  }
  return load_folders(root, found, labels, classes, channels, height, width);
}

}  // namespace torus::datasets
