#include "geometry/two_stage_search.hpp"

#include "geometry/code_search.hpp"
#include "geometry/omp_pragma.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace torus::geometry {

KnnResult<std::int32_t> knn_two_stage_l1(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                         int prefix, int shortlist, int k, int threads) {
  const Eigen::Index K = refs.cols(), Nq = queries.rows();
  if (queries.cols() != K || prefix < 1 || prefix > K || k < 1 || shortlist < k || shortlist > refs.rows() || threads < 1)
    throw std::invalid_argument("knn_two_stage_l1: queries (" + std::to_string(Nq) + ", " + std::to_string(queries.cols()) +
                                "), references (" + std::to_string(refs.rows()) + ", " + std::to_string(K) + "), prefix " +
                                std::to_string(prefix) + ", shortlist " + std::to_string(shortlist) + ", k " +
                                std::to_string(k) + ", threads " + std::to_string(threads) +
                                ": expected equal widths, 1 <= prefix <= K, 1 <= k <= shortlist <= N, threads >= 1");
  // The prefixes as a device stores them: contiguous rows of `prefix` bytes.
  const CodeMatrix qp = queries.leftCols(prefix), rp = refs.leftCols(prefix);
  const KnnResult<std::int32_t> candidates = knn_circular_l1(qp, rp, shortlist, threads);
  KnnResult<std::int32_t> out{RowMatrix<std::int64_t>(Nq, k), RowMatrix<std::int32_t>(Nq, k)};
  TORUS_GEOMETRY_OMP(parallel num_threads(threads)) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(shortlist));
    TopK<std::int32_t, Nearer::smaller> top(k);
    TORUS_GEOMETRY_OMP(for schedule(static))
    for (Eigen::Index i = 0; i < Nq; ++i) {
      // In reference order, so that equal distances keep the lower index in front (TopK's rule).
      for (int j = 0; j < shortlist; ++j) order[static_cast<std::size_t>(j)] = candidates.indices(i, j);
      std::sort(order.begin(), order.end());
      top.clear();
      for (const std::int64_t r : order) {
        std::int32_t d = 0;
        for (Eigen::Index c = 0; c < K; ++c) d += std::abs(int(std::int8_t(std::uint8_t(queries(i, c) - refs(r, c)))));
        top.push(d, r);
      }
      top.write(out, i);
    }
  }
  return out;
}

}  // namespace torus::geometry
