// Training checkpoint reader: framing, CRC, header JSON, counters, tensor table. Mutations of a
// valid file almost always break the CRC first; the CRC-valid corpus entries reach the rest.
#include "fuzz_input.hpp"
#include "nn/io/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = torus::fuzz::write_input("input.ckpt", data, size);
  try {
    torus::nn::io::read_checkpoint(path);
  } catch (const torus::nn::io::IoError&) {
  }
  return 0;
}
