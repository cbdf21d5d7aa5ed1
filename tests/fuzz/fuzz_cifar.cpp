// CIFAR-10 and CIFAR-100 binary batches, through the layer below folder resolution: the input as a
// batch file of as many whole records as it could hold (at least one, so sizes are checked too),
// and as the label-name file beside a valid one-record batch. A real batch is 10000 records; a few
// keep the fuzzer fast while reaching every check.
#include "datasets/cifar_files.hpp"
#include "datasets/image_file.hpp"
#include "fuzz_input.hpp"

#include <algorithm>

namespace {
using torus::datasets::detail::CifarFormat;

const CifarFormat kCifar10{"CIFAR-10", 1, {10}, 0};
const CifarFormat kCifar100{"CIFAR-100", 2, {20, 100}, 1};

const std::filesystem::path& one_record_dir() {
  static const std::filesystem::path dir = [] {
    const auto d = torus::fuzz::scratch_dir() / "one_record";
    std::filesystem::create_directories(d);
    std::ofstream((d / "c10.bin").string(), std::ios::binary).write(std::string(3073, '\0').data(), 3073);
    std::ofstream((d / "c100.bin").string(), std::ios::binary).write(std::string(3074, '\0').data(), 3074);
    return d;
  }();
  return dir;
}

void load(const std::filesystem::path& folder, const std::string& file, const CifarFormat& format, int64_t records,
          const std::string& names) {
  try {
    torus::datasets::detail::load_cifar_files(folder, {file}, format, records, names);
  } catch (const torus::datasets::DataError&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  torus::fuzz::write_input("batch.bin", data, size);
  const auto& scratch = torus::fuzz::scratch_dir();
  load(scratch, "batch.bin", kCifar10, std::max<int64_t>(1, int64_t(size) / 3073), "no_names.txt");
  load(scratch, "batch.bin", kCifar100, std::max<int64_t>(1, int64_t(size) / 3074), "no_names.txt");

  const auto& dir = one_record_dir();
  std::ofstream((dir / "names.txt").string(), std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  load(dir, "c10.bin", kCifar10, 1, "names.txt");
  load(dir, "c100.bin", kCifar100, 1, "names.txt");
  return 0;
}
