// The C++ side of npy_interop.py: writes .npy files with our writers for numpy to load, and reads
// numpy-written files with our reader, printing what it read (or the error, exit status 1).
//   npy_interop_tool write DIR       ours_f32.npy (3, 4), ours_i64.npy (6,), ours_u8.npy (2, 3), ours_empty.npy (0, 3)
//   npy_interop_tool matrix FILE     prints "rows cols" then one float per line (%.9g: exact for float32)
//   npy_interop_tool integers FILE   prints the count then one integer per line
#include "datasets/npy.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace torus::datasets;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s write DIR | matrix FILE | integers FILE\n", argv[0]);
    return 2;
  }
  const std::string command = argv[1], path = argv[2];
  try {
    if (command == "write") {
      float m[12];
      for (int i = 0; i < 12; ++i) m[i] = 0.5f * float(i) - 1.25f;
      m[11] = 1e-30f;
      write_npy(path + "/ours_f32.npy", m, 3, 4);
      write_npy(path + "/ours_i64.npy", std::vector<int64_t>{-5, 0, 7, int64_t(1) << 40, std::numeric_limits<int64_t>::min(),
                                                              std::numeric_limits<int64_t>::max()});
      const uint8_t u8[6] = {0, 1, 127, 128, 254, 255};
      write_npy_u8(path + "/ours_u8.npy", u8, 2, 3);
      write_npy(path + "/ours_empty.npy", m, 0, 3);
    } else if (command == "matrix") {
      const FloatMatrix m = read_npy_matrix(path);
      std::printf("%" PRId64 " %" PRId64 "\n", m.rows, m.cols);
      for (float v : m.values) std::printf("%.9g\n", double(v));
    } else if (command == "integers") {
      const std::vector<int64_t> v = read_npy_integers(path);
      std::printf("%zu\n", v.size());
      for (int64_t x : v) std::printf("%" PRId64 "\n", x);
    } else {
      std::fprintf(stderr, "unknown command %s\n", command.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
