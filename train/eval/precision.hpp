// precision@1 by nearest neighbour (method.md 8): each query takes the label of the reference with
// the largest inner product (first on ties); the score is the fraction whose label matches. The
// query set is separate from the reference set (pytorch-metric-learning's ref_includes_query=False).
// Exact search with Eigen's GEMM in blocks of queries; the integer search of issue 6 comes later.
#pragma once

#include <Eigen/Core>

#include <vector>

namespace torus::eval {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Index of the nearest reference (maximum inner product) for every query row.
std::vector<int64_t> nearest_by_inner_product(const RowMatrix& queries, const RowMatrix& references);

double precision_at_1(const RowMatrix& queries, const std::vector<int>& query_labels, const RowMatrix& references,
                      const std::vector<int>& reference_labels);

}  // namespace torus::eval
