// The differentiable all-gather: every rank's rows, concatenated in rank order, on every rank.
// Its backward is what makes a loss over the global batch train correctly when each rank
// computes its own copy of that loss (all_gather.cpp says why the gradient is summed).
#pragma once

#include "autodiff/ops.hpp"
#include "nn/dist/communicator.hpp"

namespace torus::dist {

// x: (n_r, ...) on rank r, the trailing dimensions equal on every rank, n_r free (0 allowed).
// Returns (sum_r n_r, ...): rank 0's rows, then rank 1's, ... on every rank.
// Backward: the upstream gradient summed over ranks, rows [offset_r, offset_r + n_r) of it.
// Collective in both directions: every rank must record it, and run backward through it, in the
// same order. On one rank it is the identity.
template <typename T>
Var<T> all_gather_rows(const Communicator& comm, const Var<T>& x);

// Every rank's rows of an integer vector (labels), in rank order.
std::vector<int> all_gather_labels(const Communicator& comm, const std::vector<int>& mine);

// The row counts of every rank, in rank order.
std::vector<int64_t> gather_row_counts(const Communicator& comm, int64_t rows);

}  // namespace torus::dist
