// read_image: checked read of the file, decoder chosen by the file's signature (not its name),
// then the channel conversion. Grey from colour uses stb_image's integer luma,
// (77 R + 150 G + 29 B) >> 8, and alpha is dropped, so pixels match what earlier versions read.
#include "datasets/image_file.hpp"

#include "datasets/image_decode.hpp"
#include "datasets/binary_file.hpp"
#include "nn/io/atomic_file.hpp"

#include <cstring>

namespace torus::datasets {

namespace detail {
void check_image_size(const std::string& path, int64_t width, int64_t height, const ImageLimits& limits) {
  if (width < 1 || height < 1 || width > limits.max_side || height > limits.max_side) {
    throw DataError(path + ": image size " + std::to_string(width) + "x" + std::to_string(height) + " is outside 1.." +
                    std::to_string(limits.max_side) + " per side");
  }
  if (width * height > limits.max_pixels) {
    throw DataError(path + ": image size " + std::to_string(width) + "x" + std::to_string(height) + " exceeds the limit of " +
                    std::to_string(limits.max_pixels) + " pixels");
  }
}
}  // namespace detail

namespace {

std::string read_image_bytes(const std::string& path, const ImageLimits& limits) {
  return detail::as_data_error([&] {
    const nn::io::InputFile file(path, "image");
    if (file.size() > uint64_t(limits.max_file_bytes)) {
      throw DataError(path + ": image file of " + std::to_string(file.size()) + " bytes exceeds the " +
                      std::to_string(limits.max_file_bytes) + "-byte limit");
    }
    std::string bytes(file.size(), '\0');
    file.read_at(0, bytes.size(), bytes.data());
    return bytes;
  });
}

bool starts_with(const std::string& bytes, const char* magic, size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

uint8_t luma(const uint8_t* rgb) { return uint8_t((77 * rgb[0] + 150 * rgb[1] + 29 * rgb[2]) >> 8); }

// (h, w, from) with from in 1..4 (grey, grey + alpha, RGB, RGBA) -> (h, w, to), to 1 or 3.
Image convert_channels(Image in, int to) {
  const int from = in.channels;
  if (from == to) return in;
  const size_t n = size_t(in.width) * size_t(in.height);
  Image out;
  out.width = in.width;
  out.height = in.height;
  out.channels = to;
  out.pixels.resize(n * size_t(to));
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &in.pixels[i * size_t(from)];
    uint8_t* q = &out.pixels[i * size_t(to)];
    if (to == 1) {
      q[0] = from >= 3 ? luma(p) : p[0];
    } else if (from >= 3) {
      q[0] = p[0], q[1] = p[1], q[2] = p[2];
    } else {
      q[0] = q[1] = q[2] = p[0];
    }
  }
  return out;
}

}  // namespace

Image read_image(const std::string& path, int channels, const ImageLimits& limits) {
  if (channels != 1 && channels != 3) {
    throw std::invalid_argument("read_image: " + path + ": channels must be 1 or 3, got " + std::to_string(channels));
  }
  const std::string bytes = read_image_bytes(path, limits);
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n", 8)) return convert_channels(detail::decode_png(path, bytes, limits), channels);
  if (starts_with(bytes, "\xff\xd8\xff", 3)) return convert_channels(detail::decode_jpeg(path, bytes, limits), channels);
  throw DataError(path + ": not a PNG or JPEG image (the file does not start with either signature)");
}

Image read_image(const std::string& path, int channels, int max_side) {
  ImageLimits limits;
  limits.max_side = max_side;
  return read_image(path, channels, limits);
}

}  // namespace torus::datasets
