// The .npy writers: xt::dump_npy builds the bytes (header and data, in memory), which torus_file's
// write_file_atomic (nn/io/atomic_file.hpp) puts in place: temporary file, fsync, rename, fsync of
// the folder. We do not use dump_npy's file overload because it cannot report a failed write (a
// full disk would leave a short file behind and no error).
#include "datasets/npy.hpp"

#include "datasets/binary_file.hpp"
#include "nn/io/atomic_file.hpp"

#include <stdexcept>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

namespace torus::datasets {

namespace {
// The datasets' error type for a failed write, with torus_file's message (path, step, errno text).
void write_atomically(const std::string& path, const std::string& bytes) {
  detail::as_data_error([&] { nn::io::write_file_atomic(path, bytes); });
}

template <class T>
void write_array(const std::string& path, const T* data, std::vector<size_t> shape) {
  size_t count = 1;
  for (size_t d : shape) count *= d;
  if (count > 0 && data == nullptr) throw std::invalid_argument("write_npy: " + path + ": null data");
  auto array = xt::adapt(data, count, xt::no_ownership(), shape);
  write_atomically(path, xt::dump_npy(array));
}

void check_shape(const std::string& path, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) {
    throw std::invalid_argument("write_npy: " + path + ": negative shape (" + std::to_string(rows) + ", " + std::to_string(cols) + ")");
  }
}
}  // namespace

void write_npy(const std::string& path, const float* data, int64_t rows, int64_t cols) {
  check_shape(path, rows, cols);
  write_array(path, data, {size_t(rows), size_t(cols)});
}

void write_npy(const std::string& path, const std::vector<int64_t>& values) {
  write_array(path, values.data(), {values.size()});
}

void write_npy(const std::string& path, const int64_t* data, int64_t rows, int64_t cols) {
  check_shape(path, rows, cols);
  write_array(path, data, {size_t(rows), size_t(cols)});
}

void write_npy(const std::string& path, const double* data, int64_t rows, int64_t cols) {
  check_shape(path, rows, cols);
  write_array(path, data, {size_t(rows), size_t(cols)});
}

void write_npy_u8(const std::string& path, const uint8_t* data, int64_t rows, int64_t cols) {
  check_shape(path, rows, cols);
  write_array(path, data, {size_t(rows), size_t(cols)});
}

}  // namespace torus::datasets
