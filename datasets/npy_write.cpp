// The .npy writers: xt::dump_npy builds the bytes (header and data, in memory), which are then
// written to a temporary file next to `path` and renamed over it. We write the bytes ourselves
// rather than through dump_npy's file overload because that one cannot report a failed write
// (a full disk would leave a short file behind and no error).
#include "datasets/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

namespace torus::datasets {

namespace {
// Writes `bytes` to a fresh temporary file in the folder of `path`, flushes it to disk and renames
// it to `path` (atomic on POSIX). On any failure the temporary file is removed and `path` is
// untouched.
void write_atomically(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) throw DataError(path + ": cannot create a temporary file next to it (" + std::strerror(errno) + ")");
  const auto fail = [&](const std::string& what) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw DataError(path + ": " + what + " failed (" + reason + ")");
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail("writing " + std::to_string(bytes.size()) + " bytes");
    }
    done += size_t(n);
  }
  // mkstemp creates the file 0600; give it the usual permissions of a new file.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    fail("flushing the temporary file");
  }
  if (::close(fd) != 0) fail("closing the temporary file");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming the temporary file");
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

void write_npy_u8(const std::string& path, const uint8_t* data, int64_t rows, int64_t cols) {
  check_shape(path, rows, cols);
  write_array(path, data, {size_t(rows), size_t(cols)});
}

}  // namespace torus::datasets
