// CRC-32 (zlib's) over buffers of any size: zlib takes uInt lengths, so large buffers go in pieces.
// Internal to nn/io (checkpoints, code index files); not installed.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace torus::nn::io::detail {

inline std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(n, std::size_t(1) << 30));
    crc = static_cast<std::uint32_t>(::crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

}  // namespace torus::nn::io::detail
