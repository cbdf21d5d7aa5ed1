// The in-memory image set every reader returns (IDX, CIFAR, image folders) and the batch loader
// consumes: n images of (channels, height, width) uint8 pixels, planar, with one label each.
// Pixels stay uint8 in memory (CIFAR-10 train is 150 MB as bytes, 600 MB as floats); conversion
// to normalised floats happens per batch (augment.hpp, batch_loader.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torus::datasets {

struct ImageSet {
  int64_t n = 0, channels = 1, height = 0, width = 0;
  int classes = 0;
  std::vector<uint8_t> pixels;           // (n, channels, height, width), row-major
  std::vector<int> labels;               // (n), each in [0, classes)
  std::vector<std::string> class_names;  // (classes) names, or empty when the classes are unnamed
  // (n) the file each image came from, relative to the folder given to the reader (image folders);
  // empty for readers of record files (IDX, CIFAR), where image i is record i.
  std::vector<std::string> files;
  int64_t image_size() const { return channels * height * width; }
};

}  // namespace torus::datasets
