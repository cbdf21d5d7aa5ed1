// How many distinct embeddings a set holds and how evenly it uses them (method.md 8:
// "nunique_val" and "entropy"). Rows are compared exactly: float rows by bit pattern, so -0.0 and
// +0.0 are different rows and NaN rows with equal bits are one row. Quantise first (encode_angles)
// if code-level counts are wanted; nothing here rounds or bins values.
#pragma once

#include "geometry/row_matrix.hpp"

#include <cstdint>
#include <vector>

namespace torus::geometry {

// Multiplicity of each distinct row of x (N, M); sums to N. The order is that of the rows'
// bytes: deterministic on one machine, but not sorted by value.
template <typename T>
std::vector<std::int64_t> distinct_row_counts(const Eigen::Ref<const RowMatrix<T>>& x);
std::vector<std::int64_t> distinct_row_counts(const Eigen::Ref<const CodeMatrix>& q);

// The number of distinct rows.
template <typename T>
std::int64_t count_distinct_rows(const Eigen::Ref<const RowMatrix<T>>& x);
std::int64_t count_distinct_rows(const Eigen::Ref<const CodeMatrix>& q);

// Shannon entropy in nats of a histogram of N rows, the reference's rule: pad with pseudo-counts
// of 1e-6 up to M = min(N, 2^total_bits) possible values (M = N when total_bits == 0, i.e.
// unquantised), normalise, -sum p ln p. N all-distinct rows give ln N; N identical rows about 0.
// Throws if N < 1, counts do not sum to N, a count is negative, total_bits < 0, or there are more
// distinct values than M.
double shannon_entropy_nats(const std::vector<std::int64_t>& counts, std::int64_t N, int total_bits);

// shannon_entropy_nats of the distinct-row histogram of x.
template <typename T>
double row_entropy_nats(const Eigen::Ref<const RowMatrix<T>>& x, int total_bits);
double row_entropy_nats(const Eigen::Ref<const CodeMatrix>& q, int total_bits);

}  // namespace torus::geometry
