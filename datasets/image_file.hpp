// Reading one PNG or JPEG file into 8-bit pixels: libpng for PNG, libjpeg-turbo for JPEG, both
// from Debian (image_decode.hpp). The file must be a regular file within a size limit; its header
// is read and the declared size checked against ImageLimits before any pixel buffer is allocated;
// every failure throws an error naming the file and what was wrong. Resizing and class folders
// build on this.
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

inline constexpr int kMaxImageSide = 16384;                      // pixels per side
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 26;     // 64 Mpx: 192 MB as RGB
inline constexpr int64_t kMaxImageFileBytes = int64_t(1) << 28;  // 256 MB of PNG or JPEG

// What a decoder may accept, checked on the header before decoding: a declared 16384 x 16384
// image (a 0.8 MB "decompression bomb") is refused without allocating its 800 MB.
struct ImageLimits {
  int max_side = kMaxImageSide;
  int64_t max_pixels = kMaxImagePixels;
  int64_t max_file_bytes = kMaxImageFileBytes;
};

// Decodes `path` to `channels` (1 or 3) channels. Refuses images whose sides exceed max_side.
Image read_image(const std::string& path, int channels, int max_side = kMaxImageSide);
Image read_image(const std::string& path, int channels, const ImageLimits& limits);

}  // namespace torus::datasets
