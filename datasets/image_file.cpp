#include "datasets/image_file.hpp"

#include <stb_image.h>

#include <memory>

namespace torus::datasets {

Image read_image(const std::string& path, int channels, int max_side) {
  if (channels != 1 && channels != 3) {
    throw std::invalid_argument("read_image: " + path + ": channels must be 1 or 3, got " + std::to_string(channels));
  }
  int w = 0, h = 0, c = 0;
  if (!stbi_info(path.c_str(), &w, &h, &c)) {
    throw DataError(path + ": not a readable PNG or JPEG image (" + std::string(stbi_failure_reason()) + ")");
  }
  if (w <= 0 || h <= 0 || w > max_side || h > max_side) {
    throw DataError(path + ": image size " + std::to_string(w) + "x" + std::to_string(h) + " is outside 1.." +
                    std::to_string(max_side) + " per side");
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load(path.c_str(), &w, &h, &c, channels), stbi_image_free);
  if (!data) throw DataError(path + ": decoding failed (" + std::string(stbi_failure_reason()) + ")");
  Image img;
  img.width = w;
  img.height = h;
  img.channels = channels;
  img.pixels.assign(data.get(), data.get() + static_cast<size_t>(w) * h * channels);
  return img;
}

}  // namespace torus::datasets
