// Code index reader (nn/io/code_index_file.hpp): header, overflow-checked sizes, quantiser section,
// then the mapped codes and ids used in place. An index that opens is also searched (its codes read
// by the kernels, its ids looked up), grown by one row (the copy out of the mapping) and verified.
// Search may refuse stored float codes that are not finite (code_search.hpp's documented error).
#include "fuzz_input.hpp"
#include "nn/io/code_index_file.hpp"

#include <algorithm>
#include <stdexcept>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = torus::fuzz::write_input("input.tidx", data, size);
  try {
    torus::nn::io::verify_code_index_file(path);
  } catch (const torus::nn::io::IoError&) {
  }
  try {
    torus::geometry::CodeIndex index = torus::nn::io::load_code_index(path);
    // Queries at angle 0 (torusN pairs (1, 0)), one a little off it.
    torus::geometry::RowMatrix<float> q = torus::geometry::RowMatrix<float>::Zero(2, index.dim());
    for (Eigen::Index d = 0; d < index.dim(); d += 2) q(0, d) = q(1, d) = 1.0f;
    q(1, 0) = 0.3f;
    const int k = static_cast<int>(std::min<std::int64_t>(index.size(), 3));
    try {
      index.search(q, k);
      index.add(q.topRows(1));
      index.search(q, k);
    } catch (const std::invalid_argument&) {
    }
  } catch (const torus::nn::io::IoError&) {
  }
  return 0;
}
