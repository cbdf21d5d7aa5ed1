// CIFAR binary batches: folder resolution, exact size checks before allocation, then records
// read straight into the ImageSet (their pixel layout is already planar C, H, W).
#include "datasets/cifar.hpp"

#include "datasets/binary_file.hpp"
#include "datasets/cifar_files.hpp"

#include <filesystem>
#include <memory>
#include <stdexcept>

namespace torus::datasets {

namespace {
namespace fs = std::filesystem;

constexpr int64_t kSide = 32, kChannels = 3, kPixels = kChannels * kSide * kSide;  // 3072 per record
constexpr int64_t kRecordsPerFile10 = 10000;

using detail::CifarFormat;

// `dir` itself when it holds `probe`, else dir/`standard_folder` when that does.
fs::path resolve_folder(const std::string& dir, const std::string& standard_folder, const std::string& probe,
                        const std::string& name) {
  const fs::path root(dir);
  std::error_code ec;
  if (fs::exists(root / probe, ec)) return root;
  if (fs::exists(root / standard_folder / probe, ec)) return root / standard_folder;
  throw DataError(dir + ": no " + name + " binary files (expected " + probe + " in " + dir + " or in " +
                  (root / standard_folder).string() + ", found neither)");
}

// Opens `path` and checks it holds exactly `records` whole records.
std::unique_ptr<detail::BinaryFile> open_checked(const fs::path& path, const CifarFormat& format, int64_t records) {
  const std::string file = path.string();
  auto in = std::make_unique<detail::BinaryFile>(file, format.name + " batch file");
  const int64_t record_bytes = format.label_bytes + kPixels;
  if (in->size() % record_bytes != 0) {
    throw DataError(file + ": size " + std::to_string(in->size()) + " bytes is not a whole number of " +
                    std::to_string(record_bytes) + "-byte " + format.name + " records (expected " +
                    std::to_string(records * record_bytes) + " bytes)");
  }
  if (in->size() / record_bytes != records) {
    throw DataError(file + ": " + std::to_string(in->size() / record_bytes) + " " + format.name + " records, expected " +
                    std::to_string(records) + " (" + std::to_string(records * record_bytes) + " bytes)");
  }
  return in;
}

// Reads the `records` images of a checked file into set, from image `first` on.
void read_records(detail::BinaryFile& in, const std::string& file, const CifarFormat& format, int64_t records, int64_t first,
                  ImageSet& set) {
  unsigned char label[2];
  for (int64_t r = 0; r < records; ++r) {
    const int64_t item = first + r;
    in.read(label, format.label_bytes, "the labels of record " + std::to_string(r));
    for (int64_t b = 0; b < format.label_bytes; ++b) {
      if (label[b] >= format.label_classes[b]) {
        throw DataError(file + ": record " + std::to_string(r) + " has label " + std::to_string(label[b]) +
                        ", expected [0, " + std::to_string(format.label_classes[b]) + ")");
      }
    }
    set.labels[item] = label[format.used_label];
    in.read(set.pixels.data() + item * kPixels, kPixels, "the pixels of record " + std::to_string(r));
  }
}

// One name per non-empty line; the file must name every class.
std::vector<std::string> read_class_names(const fs::path& path, int classes) {
  const std::string file = path.string();
  const std::string text = detail::read_text_file(file, 1 << 16, "label-name file");
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) names.push_back(line);
    start = end + 1;
  }
  if (int(names.size()) != classes) {
    throw DataError(file + ": " + std::to_string(names.size()) + " class names, expected " + std::to_string(classes));
  }
  return names;
}

void check_split(const std::string& function, const std::string& split) {
  if (split != "train" && split != "test") throw std::invalid_argument(function + ": split must be train or test, got " + split);
}
}  // namespace

ImageSet detail::load_cifar_files(const fs::path& folder, const std::vector<std::string>& files,
                                  const CifarFormat& format, int64_t records_per_file, const std::string& names_file) {
  // Every file's size is checked before the (up to 150 MB of) pixels are allocated.
  std::vector<std::unique_ptr<detail::BinaryFile>> opened;
  for (const std::string& f : files) opened.push_back(open_checked(folder / f, format, records_per_file));
  ImageSet set;
  set.n = records_per_file * int64_t(files.size());
  set.channels = kChannels;
  set.height = kSide;
  set.width = kSide;
  set.classes = format.label_classes[format.used_label];
  set.pixels.resize(size_t(set.n * kPixels));
  set.labels.resize(size_t(set.n));
  for (size_t i = 0; i < files.size(); ++i) {
    read_records(*opened[i], (folder / files[i]).string(), format, records_per_file, int64_t(i) * records_per_file, set);
  }
  std::error_code ec;
  if (fs::exists(folder / names_file, ec)) set.class_names = read_class_names(folder / names_file, set.classes);
  return set;
}

ImageSet load_cifar10(const std::string& dir, const std::string& split) {
  check_split("load_cifar10", split);
  std::vector<std::string> files;
  if (split == "train") {
    for (int i = 1; i <= 5; ++i) files.push_back("data_batch_" + std::to_string(i) + ".bin");
  } else {
    files.push_back("test_batch.bin");
  }
  const fs::path folder = resolve_folder(dir, "cifar-10-batches-bin", files[0], "CIFAR-10");
  return detail::load_cifar_files(folder, files, CifarFormat{"CIFAR-10", 1, {10}, 0}, kRecordsPerFile10, "batches.meta.txt");
}

ImageSet load_cifar100(const std::string& dir, const std::string& split, CifarLabels labels) {
  check_split("load_cifar100", split);
  const std::string file = split == "train" ? "train.bin" : "test.bin";
  const fs::path folder = resolve_folder(dir, "cifar-100-binary", file, "CIFAR-100");
  const bool fine = labels == CifarLabels::fine;
  return detail::load_cifar_files(folder, {file}, CifarFormat{"CIFAR-100", 2, {20, 100}, fine ? 1 : 0}, split == "train" ? 50000 : 10000,
                    fine ? "fine_label_names.txt" : "coarse_label_names.txt");
}

}  // namespace torus::datasets
