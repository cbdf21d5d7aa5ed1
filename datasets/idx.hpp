// IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed: a big-endian header (two zero bytes,
// a type code, the rank, then one uint32 per dimension) followed by the values. Only unsigned
// bytes (type 0x08) are accepted, which is what the image and label files hold. The header is
// validated and the payload size checked exactly (no truncation, no trailing bytes) before any
// value is used; every failure names the file, what was expected and what was found.
#pragma once

#include "datasets/image_file.hpp"
#include "datasets/image_set.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::datasets {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  // row-major
};

inline constexpr int64_t kMaxIdxBytes = int64_t(1) << 31;  // 2 GiB: far beyond any real IDX file

// Reads `path` (gzip or raw: zlib reads both) and checks it has rank `expected_rank`.
IdxArray read_idx(const std::string& path, int expected_rank);

// Images (n, h, w) and labels (n) from two IDX files; labels must lie in [0, classes).
ImageSet load_idx_images(const std::string& images_path, const std::string& labels_path, int classes = 10);

// The standard Fashion-MNIST files of the Debian package dataset-fashion-mnist.
inline const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
ImageSet load_fashion_mnist(const std::string& split, const std::string& dir = kFashionMnistDir);  // "train" or "test"

// (count, C, H, W) floats of the listed images: pixel / 255, then (x - mean) / std.
void normalized_images(const ImageSet& set, const std::vector<int64_t>& indices, float mean, float std_dev,
                       std::vector<float>& out);

}  // namespace torus::datasets
