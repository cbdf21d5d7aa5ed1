// A labelled image set from a folder tree, torchvision ImageFolder style:
//   root/<class name>/<image>.png|.jpg|.jpeg
// Class folders are sorted by name (byte order) and numbered 0, 1, ...; their names become
// ImageSet::class_names. Inside a class, image files are sorted by name; the extension test is
// case-insensitive, and other files and hidden entries (names starting with '.') are skipped.
// Each image is decoded by read_image (header and size checked before decoding), converted to
// grey (1 channel) or RGB (3) and resampled to height x width by resize_planes (area averaging
// when shrinking, bilinear when growing; aspect ratio not kept), then rounded to uint8.
#pragma once

#include "datasets/image_set.hpp"

#include <string>
#include <vector>

namespace torus::datasets {

inline constexpr int kMaxFolderClasses = 100'000;                 // class subfolders of one root
inline constexpr int64_t kMaxFolderPixelBytes = int64_t(1) << 33;  // 8 GiB of resized uint8 pixels

// The class names of `root` in label order (its subfolders, sorted by name), without decoding
// anything: what a test split is labelled against.
std::vector<std::string> image_folder_classes(const std::string& root);

// Throws DataError for a missing root, a root without class folders, a class folder without
// images and any file that fails to decode (naming it).
ImageSet load_image_folder(const std::string& root, int channels, int height, int width);

// A split of an existing class list (a test folder read against the training classes): a class
// folder is labelled by the position of its name in `classes`, so a split that lacks some
// classes keeps every other label right; a folder whose name is not in `classes` is refused
// (DataError naming it and the known classes). class_names and classes of the result are
// `classes` themselves.
ImageSet load_image_folder(const std::string& root, int channels, int height, int width,
                           const std::vector<std::string>& classes);

}  // namespace torus::datasets
