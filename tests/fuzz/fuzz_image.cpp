// PNG and JPEG decoding (libpng, libjpeg-turbo, our limits and channel conversion), to grey and
// to RGB. The pixel limit is lowered so the fuzzer spends its time on structure, not on big images.
#include "datasets/image_file.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = torus::fuzz::write_input("input.img", data, size);
  torus::datasets::ImageLimits limits;
  limits.max_pixels = 1 << 20;
  for (int channels : {1, 3}) {
    try {
      torus::datasets::read_image(path, channels, limits);
    } catch (const torus::datasets::DataError&) {
    }
  }
  return 0;
}
