// CIFAR-10 binary batches: the input as a test batch (whose size is checked before any record is
// read), and as the label-name file beside a valid all-zero test batch made once per process.
#include "datasets/cifar.hpp"
#include "datasets/image_file.hpp"
#include "fuzz_input.hpp"

#include <filesystem>

namespace {
const std::filesystem::path& valid_batch_dir() {
  static const std::filesystem::path dir = [] {
    const auto d = torus::fuzz::scratch_dir() / "with_names";
    std::filesystem::create_directories(d);
    std::ofstream((d / "test_batch.bin").string(), std::ios::binary).write(std::string(10000 * 3073, '\0').data(), 10000 * 3073);
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto batch_dir = torus::fuzz::scratch_dir() / "batch";
  std::filesystem::create_directories(batch_dir);
  torus::fuzz::write_input("batch/test_batch.bin", data, size);
  try {
    torus::datasets::load_cifar10(batch_dir.string(), "test");
  } catch (const torus::datasets::DataError&) {
  }
  const std::string names = (valid_batch_dir() / "batches.meta.txt").string();
  std::ofstream(names, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  try {
    torus::datasets::load_cifar10(valid_batch_dir().string(), "test");
  } catch (const torus::datasets::DataError&) {
  }
  return 0;
}
