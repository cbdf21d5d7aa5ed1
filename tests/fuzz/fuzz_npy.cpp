// .npy readers (float matrices, integer label vectors) and the label CSV reader.
#include "datasets/npy.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = torus::fuzz::write_input("input.npy", data, size);
  try {
    torus::datasets::read_npy_matrix(path);
  } catch (const torus::datasets::DataError&) {
  }
  try {
    torus::datasets::read_npy_integers(path);
  } catch (const torus::datasets::DataError&) {
  }
  try {
    torus::datasets::read_label_csv(path);
  } catch (const torus::datasets::DataError&) {
  }
  return 0;
}
