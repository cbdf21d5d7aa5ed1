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

namespace torus::datasets {

// Throws DataError for a missing root, a root without class folders, a class folder without
// images and any file that fails to decode (naming it).
ImageSet load_image_folder(const std::string& root, int channels, int height, int width);

}  // namespace torus::datasets
