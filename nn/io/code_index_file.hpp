// The code index file (.tidx): a geometry::CodeIndex saved once and opened by memory mapping, so
// opening reads the header and the quantiser but not the codes, which are searched in place.
// Little-endian; every section starts at a multiple of 64 bytes so uint64 and float codes are
// aligned in the mapping.
//
//   offset  bytes         field
//   0       8             magic "TORUSIDX"
//   8       4             format version (1)
//   12      4             kind: 0 u8, 1 u8-dot, 2 pq8_2, 3 cpq8_2, 4 1bit, 5 float
//   16      4             head: 0 torusN, 1 torusC
//   20      4             zero
//   24      8             D, the width of the input vectors (1..65536)
//   32      8             N, the number of vectors (>= 1)
//   40      8             the file's size in bytes
//   48      16            zero
//   64      Q             quantiser: pq8_2 and cpq8_2 two float32 codebooks (256, K/2) one after
//                         the other; 1bit D float64 minima then D float64 maxima; else nothing
//   C       N row_bytes   codes, C = 64 + Q rounded up to 64 (row_bytes: geometry/code_index.hpp)
//   I       8 N           int64 ids, I = C + N row_bytes rounded up to 64
//   I+8N    4             CRC-32 (zlib) of every byte before it
//
// Every offset follows from (kind, head, D, N), so the file cannot point outside itself: open
// computes them with overflow checks and requires the recorded and the actual size to equal that
// total before it touches anything past the header. Open does not read the codes, so it cannot
// check the CRC; verify_code_index_file does (it reads everything). Until then a damaged code
// gives wrong neighbours, never an out-of-bounds read. The mapping is read-only and shared: a file
// truncated by another process while open ends the reader with SIGBUS (as with any mmap reader).
#pragma once

#include "geometry/code_index.hpp"
#include "nn/io/errors.hpp"

#include <cstdint>
#include <string>

namespace torus::nn::io {

inline constexpr char kCodeIndexMagic[8] = {'T', 'O', 'R', 'U', 'S', 'I', 'D', 'X'};
inline constexpr std::uint32_t kCodeIndexVersion = 1;
inline constexpr std::int64_t kMaxCodeIndexDim = 65536;

// Writes the index to `path` atomically (write_file_atomic).
void save_code_index(const geometry::CodeIndex& index, const std::string& path);

// Maps `path` read-only and checks its header and sizes. Throws FormatError naming the file and
// saying which: "not a torus code index" (magic), "format version", "truncated", "corrupt" (size
// or a field out of range), or IoError when it cannot be opened or mapped.
geometry::CodeIndex load_code_index(const std::string& path);

// load_code_index's checks, then the CRC-32 over the whole file (reads every byte).
void verify_code_index_file(const std::string& path);

}  // namespace torus::nn::io
