// What plain and circular product quantisation share once each can build a query's distance
// table: encoding is the nearest centroid of every sub-quantiser read off that table, decoding is
// a lookup in the codebooks. Internal to geometry/*.cpp; not installed.
#pragma once

#include "geometry/omp_pragma.hpp"
#include "geometry/row_matrix.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace torus::geometry::detail {

// points (N, d) contiguous rows; table(row, out) fills out[m * C + c], the distance of the row's
// m-th part to centroid c. Ties go to the lower centroid index.
template <typename DistanceTable>
CodeMatrix encode_by_tables(const RowMatrix<float>& points, int M, int C, int threads, const DistanceTable& table) {
  CodeMatrix codes(points.rows(), M);  // (N, M)
TORUS_GEOMETRY_OMP(parallel num_threads(threads))
  {
    std::vector<float> t(static_cast<std::size_t>(M * C));
TORUS_GEOMETRY_OMP(for schedule(static))
    for (Eigen::Index n = 0; n < points.rows(); ++n) {
      table(points.row(n).data(), t.data());
      for (int m = 0; m < M; ++m) {
        const float* row = t.data() + m * C;
        int best = 0;
        for (int c = 1; c < C; ++c)
          if (row[c] < row[best]) best = c;  // strict: ties to the lower index
        codes(n, m) = static_cast<std::uint8_t>(best);
      }
    }
  }
  return codes;
}

// The concatenated centroids of each row's codes: (N, M) -> (N, M * sub_dim).
inline RowMatrix<float> decode_codebooks(const std::vector<RowMatrix<float>>& codebooks, const Eigen::Ref<const CodeMatrix>& codes,
                                         int sub_dim, const char* who) {
  const int M = static_cast<int>(codebooks.size());
  if (codes.cols() != M) {
    throw std::invalid_argument(std::string(who) + "::decode: expected " + std::to_string(M) + " codes per row, got " +
                                shape_string(codes.rows(), codes.cols()));
  }
  RowMatrix<float> x(codes.rows(), M * sub_dim);  // (N, d)
  for (Eigen::Index n = 0; n < codes.rows(); ++n) {
    for (int m = 0; m < M; ++m) {
      const int c = codes(n, m);
      const auto& book = codebooks[static_cast<std::size_t>(m)];
      if (c >= book.rows()) throw std::invalid_argument(std::string(who) + "::decode: code " + std::to_string(c) + " out of range");
      x.row(n).segment(m * sub_dim, sub_dim) = book.row(c);
    }
  }
  return x;
}

}  // namespace torus::geometry::detail
