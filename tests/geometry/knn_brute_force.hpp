// The naive oracle for the k-NN search tests: every (query, reference) score in a full matrix,
// then a stable sort per query, so ties keep the lower reference index, the rule the searches
// promise.
#pragma once

#include "geometry/top_k.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace torus::geometry::testing {

// scores (N_q, N): the top k of each row, nearest first.
template <typename S>
KnnResult<S> brute_force_top_k(const RowMatrix<S>& scores, int k, Nearer nearer) {
  KnnResult<S> r;
  r.indices.resize(scores.rows(), k);
  r.scores.resize(scores.rows(), k);
  std::vector<std::int64_t> order(static_cast<std::size_t>(scores.cols()));
  for (Eigen::Index i = 0; i < scores.rows(); ++i) {
    std::iota(order.begin(), order.end(), std::int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return nearer == Nearer::larger ? scores(i, a) > scores(i, b) : scores(i, a) < scores(i, b);
    });
    for (int j = 0; j < k; ++j) {
      r.indices(i, j) = order[static_cast<std::size_t>(j)];
      r.scores(i, j) = scores(i, order[static_cast<std::size_t>(j)]);
    }
  }
  return r;
}

// Exactly equal indices and scores.
template <typename S>
bool same_result(const KnnResult<S>& a, const KnnResult<S>& b) {
  return a.indices == b.indices && a.scores == b.scores;
}

// How many (query, rank) entries tie with the next rank: the tests want plenty of ties.
template <typename S>
Eigen::Index tied_neighbours(const KnnResult<S>& r) {
  Eigen::Index t = 0;
  for (Eigen::Index i = 0; i < r.scores.rows(); ++i)
    for (Eigen::Index j = 0; j + 1 < r.scores.cols(); ++j) t += r.scores(i, j) == r.scores(i, j + 1);
  return t;
}

}  // namespace torus::geometry::testing
