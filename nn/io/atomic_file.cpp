// write_file_atomic: temporary file, write, fsync, rename, fsync of the folder. read_file and
// InputFile: checked reads. Every system call is checked and retried on EINTR. This is the bottom
// file library (torus_file): checkpoints, safetensors, .npy files and run folders all go through it.
#include "nn/io/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace torus::nn::io {

namespace {

constexpr std::size_t kBufferBytes = std::size_t(1) << 20;

std::string errno_text(int err) { return std::generic_category().message(err); }

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw IoError(path + ": " + what + ": " + errno_text(err));
}

// errno is read first, into a local, at every call site: building the message allocates, and an
// allocation may change errno.

// Writes all n bytes, resuming after partial writes and signals.
void write_all(int fd, const char* data, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t k = ::write(fd, data, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      fail(path, "write failed", err);
    }
    data += k;
    n -= static_cast<std::size_t>(k);
  }
}

int fsync_retrying(int fd) {
  int r;
  do r = ::fsync(fd);
  while (r != 0 && errno == EINTR);
  return r;
}

// A name no other writer uses at the same time: process id plus a per-process counter. Dot-prefixed
// so folder listings and globs skip it.
std::string temporary_name(const std::filesystem::path& target) {
  static std::atomic<unsigned> counter{0};
  return std::string(".") + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

void ByteSink::write(const void* data, std::size_t n) {
  const char* bytes = static_cast<const char*>(data);
  written_ += n;
  if (buffer_.size() + n <= kBufferBytes) {
    buffer_.insert(buffer_.end(), bytes, bytes + n);
    return;
  }
  flush();
  if (n >= kBufferBytes)
    write_all(fd_, bytes, n, path_);  // a tensor: no copy through the buffer
  else
    buffer_.assign(bytes, bytes + n);
}

void ByteSink::flush() {
  write_all(fd_, buffer_.data(), buffer_.size(), path_);
  buffer_.clear();
}

void write_file_atomic(const std::string& path, const std::function<void(ByteSink&)>& fill, Durability durability) {
  const std::filesystem::path target(path);
  if (!target.has_filename()) throw IoError(path + ": names a folder, not a file");
  // Same folder as the target, so rename() never crosses file systems and stays atomic.
  const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::string temp = (folder / temporary_name(target)).string();

  // 0666 and the process umask: the permissions a plain fopen() would give the file.
  int fd;
  do fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    fail(path, "cannot create the temporary file " + temp, err);
  }

  try {
    ByteSink sink(fd, path);
    fill(sink);
    sink.flush();
    if (durability == Durability::synced && fsync_retrying(fd) != 0) {
      const int err = errno;
      fail(path, "fsync of the temporary file " + temp + " failed", err);
    }
    const int fd_closing = fd;
    fd = -1;  // close() releases the descriptor even when it reports an error
    if (::close(fd_closing) != 0) {
      const int err = errno;
      fail(path, "close of the temporary file " + temp + " failed", err);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      fail(path, "renaming the temporary file " + temp + " onto it failed (rename)", err);
    }
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }

  if (durability == Durability::unsynced) return;
  // The rename is only durable once the folder's entry is on disk. The target is already replaced
  // here, so a failure is reported but nothing can be rolled back. Some file systems cannot sync a
  // folder (EINVAL); their rename is as durable as they allow.
  int dir;
  do dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (dir < 0 && errno == EINTR);
  if (dir < 0) {
    const int err = errno;
    fail(path, "written, but its folder cannot be opened for fsync", err);
  }
  const int synced = fsync_retrying(dir);
  const int err = errno;
  ::close(dir);
  if (synced != 0 && err != EINVAL) fail(path, "written, but fsync of its folder failed", err);
}

void write_file_atomic(const std::string& path, std::string_view bytes, Durability durability) {
  write_file_atomic(path, [bytes](ByteSink& sink) { sink.write(bytes); }, durability);
}

int remove_abandoned_temporaries(const std::string& folder) {
  int removed = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t tmp = name.rfind(".tmp-");
    if (name.empty() || name[0] != '.' || tmp == std::string::npos) continue;
    // ".tmp-<pid>-<counter>": the pid is the digits up to the next '-'.
    const std::string rest = name.substr(tmp + 5);
    const size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos || rest.find_first_not_of("0123456789-") != std::string::npos) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid <= 0 || (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)) {
      std::error_code rm;
      if (std::filesystem::remove(it->path(), rm)) ++removed;
    }
  }
  return removed;
}

std::string read_file(const std::string& path) {
  const InputFile file(path, "file");
  std::string bytes(file.size(), '\0');
  file.read_at(0, bytes.size(), bytes.data());
  return bytes;
}

InputFile::InputFile(const std::string& path, const std::string& what) : path_(path) {
  // O_NONBLOCK so that opening a FIFO or a device returns at once instead of waiting for a writer;
  // it is cleared again once fstat has shown a regular file, where it has no effect anyway.
  do fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) {
    const int err = errno;
    fail(path, "cannot open " + what + " for reading", err);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    fail(path, "fstat failed", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw IoError(path + ": " + what + " is not a regular file");
  }
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    const int err = errno;
    ::close(fd_);
    fail(path, "fcntl failed", err);
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::read_at(std::uint64_t offset, std::size_t n, void* dst) const {
  if (offset > size_ || n > size_ - offset) {
    throw IoError(path_ + ": read of " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                  " goes past the end of the " + std::to_string(size_) + "-byte file");
  }
  char* out = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t k = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (k < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      fail(path_, std::string("read at offset ") + std::to_string(offset) + " failed", err);
    }
    // Shorter than fstat said: someone truncated the file while we read it.
    if (k == 0)
      throw IoError(path_ + ": file ended at offset " + std::to_string(offset) + " while reading (it shrank)");
    out += k;
    offset += static_cast<std::uint64_t>(k);
    n -= static_cast<std::size_t>(k);
  }
}

}  // namespace torus::nn::io
