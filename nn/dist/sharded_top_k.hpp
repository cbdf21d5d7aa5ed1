// Exact k-nearest-neighbour search over references sharded across ranks: each rank searches its
// contiguous part of the references for every query (the queries are the same on every rank),
// and the per-rank top-k lists are merged into the global top-k. Ties go to the lower rank, whose
// rows come first, so the merged lists equal a single-process search over all the references,
// which gives ties to the earlier stored row (geometry/code_search.hpp's contract).
#pragma once

#include "geometry/row_matrix.hpp"
#include "nn/dist/communicator.hpp"

#include <cstdint>

namespace torus::dist {

struct TopK {
  geometry::RowMatrix<int64_t> ids;  // (N_q, k) global ids, nearest first
  geometry::RowMatrix<double> scores;
};

// mine: this rank's lists (N_q, k_r), nearest first, ids already global; k_r <= k may be smaller
// than k (a rank holding fewer than k rows; 0 columns for none). Returns the merged (N_q, k) on
// every rank. Throws DistError on every rank when the ranks' query counts differ or fewer than k
// rows exist in all. Collective.
TopK merge_sharded_top_k(const Communicator& comm, const TopK& mine, int k, bool larger_is_nearer);

}  // namespace torus::dist
