// Checked whole-file I/O. Writes are atomic: the bytes go to a temporary file in the target's
// folder, which is fsync'ed and renamed over the target, and the folder is fsync'ed, so a reader
// (or a crash) sees either the old file or the complete new one, never a mix. Reads check every
// call. Failures throw IoError naming the path and the errno text. POSIX only.
// This is the library torus_file, below everything that saves or loads: nn/io's checkpoints and
// safetensors, the datasets readers and .npy writer, and the run folders of train/ use it, so
// durability (fsync of file and folder) and read checks are written once.
#pragma once

#include "nn/io/errors.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace torus::nn::io {

// What a write must survive. `synced`: a power cut (fsync of the file and of its folder); for
// what cannot be recomputed. `unsynced`: still atomic for readers and a killed process (temporary
// file, rename), but the data may be lost in a power cut; for caches, whose entries are checked
// when read and recomputed when absent, where an fsync per entry would dominate the work.
enum class Durability { synced, unsynced };

// Where write_file_atomic's callback puts the file's bytes, in order. Buffered; large writes go
// straight to the file.
class ByteSink {
 public:
  void write(const void* data, std::size_t n);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  std::uint64_t bytes_written() const { return written_; }

 private:
  friend void write_file_atomic(const std::string&, const std::function<void(ByteSink&)>&, Durability);
  ByteSink(int fd, const std::string& path) : fd_(fd), path_(path) {}
  void flush();

  int fd_;
  const std::string& path_;  // the target, for messages
  std::vector<char> buffer_;
  std::uint64_t written_ = 0;
};

// Replaces `path` with the bytes `fill` writes. If `fill` throws, or any step fails, the temporary
// file is removed, `path` keeps its old contents (or stays absent), and the exception propagates:
// fill's own, or an IoError naming the path and the errno text.
void write_file_atomic(const std::string& path, const std::function<void(ByteSink&)>& fill,
                       Durability durability = Durability::synced);
void write_file_atomic(const std::string& path, std::string_view bytes, Durability durability = Durability::synced);

// Removes the temporary files write_file_atomic left in `folder` when its process was killed
// mid-write (".<name>.tmp-<pid>-<n>" whose process no longer exists); a live writer's temporary is
// left alone. Returns how many were removed. A folder that does not exist holds none.
int remove_abandoned_temporaries(const std::string& folder);

// The whole contents of a regular file.
std::string read_file(const std::string& path);

// A regular file opened for reading at explicit offsets, so a loader can check a header before it
// reads (or allocates for) the data behind it.
class InputFile {
 public:
  // `what` names the kind of file in messages ("npy file", "CIFAR-10 batch file"). Only regular
  // files are accepted: a FIFO, a device or a folder is refused without blocking.
  explicit InputFile(const std::string& path, const std::string& what = "file");
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  // Reads exactly n bytes at `offset` into dst; the range must lie inside size().
  void read_at(std::uint64_t offset, std::size_t n, void* dst) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace torus::nn::io
