// safetensors reader: header JSON, dtypes, shapes, offsets, data.
#include "fuzz_input.hpp"
#include "nn/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = torus::fuzz::write_input("input.safetensors", data, size);
  try {
    torus::nn::io::load_safetensors(path);
  } catch (const torus::nn::io::IoError&) {
  }
  return 0;
}
