// The nearest reference of each query with the search spread over the ranks of an mpirun: rank r
// searches its part of the references (whole blocks of geometry::kInnerProductRefBlock rows, so
// float scores are computed exactly as in one process) and the per-rank top-1 lists are merged
// (dist::merge_sharded_top_k: ties to the earlier reference). The indices equal a single-process
// search's; on one rank it is that search.
#pragma once

#include "geometry/top_k.hpp"
#include "nn/dist/communicator.hpp"

#include <functional>

namespace torus::eval {

// search(first, count): the single-process top-1 search of every query against references
// [first, first + count), indices relative to `first`. Returns each query's nearest reference.
template <typename S>
std::vector<int64_t> sharded_nearest(const dist::Communicator& comm, int64_t queries, int64_t references, bool larger_is_nearer,
                                     const std::function<geometry::KnnResult<S>(int64_t first, int64_t count)>& search);

}  // namespace torus::eval
