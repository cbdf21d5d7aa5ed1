// Checked reading of local data files, shared by the CIFAR, npy and label readers (internal: not
// installed). The size is known before anything is read and only regular files are accepted (a
// directory or /dev/zero must not look like an endless file), so a reader compares the size with
// what the header promises first; a short read still throws, naming the file, in case the file
// shrinks while it is read.
#pragma once

#include "datasets/image_file.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

namespace torus::datasets::detail {

class BinaryFile {
 public:
  // `what` names the kind of file in messages ("CIFAR-10 batch", "npy file").
  BinaryFile(const std::string& path, const std::string& what);
  ~BinaryFile();
  BinaryFile(const BinaryFile&) = delete;
  BinaryFile& operator=(const BinaryFile&) = delete;

  int64_t size() const { return size_; }
  // Reads exactly n bytes at the current position; `field` says what they were meant to be.
  void read(void* dst, int64_t n, const std::string& field);

 private:
  std::FILE* file_ = nullptr;
  std::string path_, what_;
  int64_t size_ = 0;
};

// The whole file as text, refusing files larger than max_bytes.
std::string read_text_file(const std::string& path, int64_t max_bytes, const std::string& what);

}  // namespace torus::datasets::detail
