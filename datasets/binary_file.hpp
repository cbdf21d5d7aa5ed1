// Checked reading of local data files, shared by the CIFAR, npy and label readers (internal: not
// installed). A thin reader over torus_file's InputFile (nn/io/atomic_file.hpp): the size is known
// before anything is read and only regular files are accepted (a directory, a FIFO or /dev/zero
// must not look like an endless file), so a reader compares the size with what the header
// promises first. Errors are DataError, naming the file, what it is and which field ran short.
#pragma once

#include "datasets/image_file.hpp"
#include "nn/io/atomic_file.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace torus::datasets::detail {

// Runs f, turning torus_file's IoError (open, read, write, fsync failures) into the datasets'
// DataError with the same message and `context` appended: every datasets caller catches DataError.
template <class F>
decltype(auto) as_data_error(F&& f, const std::string& context = {}) {
  try {
    return std::forward<F>(f)();
  } catch (const nn::io::IoError& e) {
    throw DataError(e.what() + context);
  }
}

class BinaryFile {
 public:
  // `what` names the kind of file in messages ("CIFAR-10 batch", "npy file").
  BinaryFile(const std::string& path, const std::string& what);

  int64_t size() const { return int64_t(file_->size()); }
  // Reads exactly n bytes at the current position; `field` says what they were meant to be.
  void read(void* dst, int64_t n, const std::string& field);

 private:
  std::optional<nn::io::InputFile> file_;
  std::string path_, what_;
  int64_t position_ = 0;
};

// The whole file as text, refusing files larger than max_bytes.
std::string read_text_file(const std::string& path, int64_t max_bytes, const std::string& what);

}  // namespace torus::datasets::detail
