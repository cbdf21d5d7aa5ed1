// The layer of cifar.cpp below folder resolution (internal: not installed). load_cifar10 and
// load_cifar100 call it with the real record counts; the fuzz target calls it with a few records,
// so every check between the bytes and the ImageSet is reached without a 30 MB input.
#pragma once

#include "datasets/image_set.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace torus::datasets::detail {

// The record layout of one of the two formats.
struct CifarFormat {
  std::string name;                // "CIFAR-10", "CIFAR-100"
  int64_t label_bytes;             // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  std::vector<int> label_classes;  // classes of each label byte, in record order
  int used_label;                  // which label byte becomes ImageSet::labels
};

// Each of `files` in `folder` must hold exactly `records_per_file` whole records (checked for every
// file before the pixels are allocated) with every label byte in range; folder/names_file, when it
// exists, must name every class once per non-empty line. Throws DataError naming the file.
ImageSet load_cifar_files(const std::filesystem::path& folder, const std::vector<std::string>& files,
                          const CifarFormat& format, int64_t records_per_file, const std::string& names_file);

}  // namespace torus::datasets::detail
