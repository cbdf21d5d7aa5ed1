// Reading one PNG or JPEG file into 8-bit pixels, through our restricted stb build.
// The header is read and the size checked before any pixel is decoded; every failure throws an
// error naming the file and what was wrong. Resizing and class folders build on this.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace torus::datasets {

// Thrown for unreadable or malformed data files; the message names the file.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Image {
  int width = 0, height = 0, channels = 0;  // channels: 1 (grey) or 3 (RGB)
  std::vector<uint8_t> pixels;              // (height, width, channels), row-major
};

inline constexpr int kMaxImageSide = 16384;  // also enforced inside stb (STBI_MAX_DIMENSIONS)

// Decodes `path` to `channels` (1 or 3) channels. Refuses images whose sides exceed max_side.
Image read_image(const std::string& path, int channels, int max_side = kMaxImageSide);

}  // namespace torus::datasets
