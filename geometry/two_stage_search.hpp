// Two-stage search on Matryoshka torus codes (method.md's uint8 codes whose first circles already
// embed well): a shortlist by circular L1 on the first `prefix` circles of each code (the bytes a
// device keeps when memory is short, or the part of an index held in fast memory), then the
// shortlist re-ranked by circular L1 on all the circles. Exact on the shortlist; the whole search
// is exact whenever each query's true neighbours are in its shortlist (torus-eval reports how
// often its nearest one is: the recall against the one-stage search).
#pragma once

#include "geometry/top_k.hpp"
#include "geometry/uint8_codes.hpp"

namespace torus::geometry {

// queries (N_q, K) and refs (N, K) uint8 codes; 1 <= prefix <= K, k <= shortlist <= N. Row i: query
// i's k nearest of its shortlist by full circular L1 (smaller is nearer; ties to the lower
// reference index), as knn_circular_l1 scores them. Results are identical at any thread count.
KnnResult<std::int32_t> knn_two_stage_l1(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                         int prefix, int shortlist, int k, int threads);

}  // namespace torus::geometry
