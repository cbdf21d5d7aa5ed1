// IDX reader (Fashion-MNIST / MNIST files, gzip or raw): rank 3 images and rank 1 labels.
#include "datasets/idx.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = torus::fuzz::write_input("input.idx", data, size);
  for (int rank : {1, 3}) {
    try {
      torus::datasets::read_idx(path, rank);
    } catch (const torus::datasets::DataError&) {
    }
  }
  return 0;
}
