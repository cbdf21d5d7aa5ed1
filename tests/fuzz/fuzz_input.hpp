// What every fuzz target shares: the readers take paths, so each input is written to a scratch
// file of this process first (overwritten by the next input), and a reader's documented error is
// the expected way to refuse bad bytes. Anything else (a crash, a sanitizer report, any other
// exception escaping the target) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace torus::fuzz {

// A folder of this process under the temporary directory, made on first use and removed when
// the process exits normally.
inline const std::filesystem::path& scratch_dir() {
  struct Scratch {
    std::filesystem::path dir;
    Scratch() : dir(std::filesystem::temp_directory_path() / ("torus_fuzz_" + std::to_string(::getpid()))) {
      std::filesystem::create_directories(dir);
    }
    ~Scratch() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  };
  static const Scratch scratch;
  return scratch.dir;
}

// Writes the input to scratch_dir()/name and returns the path.
inline std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch_dir() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

}  // namespace torus::fuzz
