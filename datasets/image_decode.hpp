// The PNG and JPEG decoders behind read_image (internal: not installed). Each takes a file's bytes,
// reads the header, checks the declared size against ImageLimits before allocating anything for
// pixels, and returns 8-bit pixels in the file's own channel layout; read_image converts channels.
// PNG goes through libpng, JPEG through libjpeg-turbo: the field's fuzzed decoders (stb_image is
// not meant for untrusted input and has written out of bounds on crafted JPEG tables).
#pragma once

#include "datasets/image_file.hpp"

#include <cstdint>
#include <string>

namespace torus::datasets::detail {

// Channels: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA (PNG); 1 or 3 (JPEG, CMYK converted to RGB).
// `path` is only for messages. Throws DataError naming the file.
Image decode_png(const std::string& path, const std::string& bytes, const ImageLimits& limits);
Image decode_jpeg(const std::string& path, const std::string& bytes, const ImageLimits& limits);

// Throws DataError unless 1 <= width, height <= max_side and width * height <= max_pixels.
void check_image_size(const std::string& path, int64_t width, int64_t height, const ImageLimits& limits);

}  // namespace torus::datasets::detail
