// Checked file reading for the readers (see binary_file.hpp): the bottom library's InputFile,
// read sequentially, with its IoError turned into the datasets' DataError (as_data_error).
#include "datasets/binary_file.hpp"

namespace torus::datasets::detail {

BinaryFile::BinaryFile(const std::string& path, const std::string& what) : path_(path), what_(what) {
  as_data_error([&] { file_.emplace(path, what); });
}

void BinaryFile::read(void* dst, int64_t n, const std::string& field) {
  if (n <= 0) return;
  const int64_t left = size() - position_;
  if (n > left) {
    throw DataError(path_ + ": " + what_ + " ended while reading " + field + " (expected " + std::to_string(n) +
                    " bytes, found " + std::to_string(left) + ")");
  }
  as_data_error([&] { file_->read_at(uint64_t(position_), size_t(n), dst); }, " (reading " + field + " of " + what_ + ")");
  position_ += n;
}

std::string read_text_file(const std::string& path, int64_t max_bytes, const std::string& what) {
  BinaryFile file(path, what);
  if (file.size() > max_bytes) {
    throw DataError(path + ": " + what + " of " + std::to_string(file.size()) + " bytes exceeds the " +
                    std::to_string(max_bytes) + "-byte limit");
  }
  std::string text(size_t(file.size()), '\0');
  file.read(text.data(), file.size(), "its contents");
  return text;
}

}  // namespace torus::datasets::detail
