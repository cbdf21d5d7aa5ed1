// PNG decoding (libpng behind our header checks and limits), straight from the bytes: the
// decoder is where untrusted structure is parsed (read_image only adds the file checks and channel
// conversion, covered by the unit tests). The pixel limit is lowered so the fuzzer spends its time
// on structure, not on big images.
#include "datasets/image_decode.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  torus::datasets::ImageLimits limits;
  limits.max_pixels = 1 << 20;
  try {
    torus::datasets::detail::decode_png("input.png", std::string(reinterpret_cast<const char*>(data), size), limits);
  } catch (const torus::datasets::DataError&) {
  }
  return 0;
}
