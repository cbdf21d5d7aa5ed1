// precision@1 by nearest neighbour (method.md 8): each query takes the label of the reference with
// the largest inner product (first on ties); the score is the fraction whose label matches. The
// query set is separate from the reference set (pytorch-metric-learning's ref_includes_query=False).
// The search is geometry::knn_inner_product (exact, Eigen's GEMM), the one float search of the
// project; the code searches of torus-quant-eval and torus-export count their hits with the same
// label_match_rate, so every precision@1 printed is computed the same way.
#pragma once

#include "geometry/row_matrix.hpp"

#include <cstdint>
#include <vector>

namespace torus::eval {

using RowMatrix = geometry::RowMatrix<float>;

// Index of the nearest reference (maximum inner product) for every query row: column 0 of
// geometry::knn_inner_product. Results are identical at any thread count.
std::vector<int64_t> nearest_by_inner_product(const RowMatrix& queries, const RowMatrix& references, int threads = 1);

// The fraction of queries whose nearest reference (column 0 of `nearest`, one row per query, as
// every geometry::knn_* search returns it) carries the query's label.
double label_match_rate(const geometry::RowMatrix<int64_t>& nearest, const std::vector<int>& query_labels,
                        const std::vector<int>& reference_labels);

double precision_at_1(const RowMatrix& queries, const std::vector<int>& query_labels, const RowMatrix& references,
                      const std::vector<int>& reference_labels, int threads = 1);

}  // namespace torus::eval
