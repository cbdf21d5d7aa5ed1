// A scratch folder per test under the system temp directory, removed with everything in it when
// the test ends (also when it fails), so test files never land in the working directory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace torus::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("torus_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string write_bytes(const std::string& path, const void* data, size_t size) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(data), std::streamsize(size));
  return path;
}
inline std::string write_bytes(const std::string& path, const std::string& bytes) { return write_bytes(path, bytes.data(), bytes.size()); }
inline std::string write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  return write_bytes(path, bytes.data(), bytes.size());
}

}  // namespace torus::testing
