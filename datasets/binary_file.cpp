// Checked file reading for the readers (see binary_file.hpp): stat before read, exact reads.
#include "datasets/binary_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace torus::datasets::detail {

BinaryFile::BinaryFile(const std::string& path, const std::string& what) : path_(path), what_(what) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw DataError(path + ": cannot open " + what + " (" + std::strerror(errno) + ")");
  struct stat st {};
  if (fstat(fileno(file_), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::fclose(file_);
    throw DataError(path + ": " + what + " is not a regular file");
  }
  size_ = int64_t(st.st_size);
}

BinaryFile::~BinaryFile() {
  if (file_) std::fclose(file_);
}

void BinaryFile::read(void* dst, int64_t n, const std::string& field) {
  if (n <= 0) return;
  const size_t got = std::fread(dst, 1, size_t(n), file_);
  if (int64_t(got) != n) {
    throw DataError(path_ + ": " + what_ + " ended while reading " + field + " (expected " + std::to_string(n) +
                    " bytes, found " + std::to_string(got) + ")");
  }
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
