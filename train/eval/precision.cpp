#include "train/eval/precision.hpp"

#include <stdexcept>
#include <string>

namespace torus::eval {

std::vector<int64_t> nearest_by_inner_product(const RowMatrix& queries, const RowMatrix& references) {
  if (queries.cols() != references.cols()) {
    throw std::invalid_argument("nearest_by_inner_product: queries have " + std::to_string(queries.cols()) +
                                " dimensions, references " + std::to_string(references.cols()));
  }
  if (references.rows() == 0) throw std::invalid_argument("nearest_by_inner_product: no references");
  std::vector<int64_t> nearest(queries.rows());
  const Eigen::Index block = 256;  // (block, references) similarities at a time
  for (Eigen::Index q0 = 0; q0 < queries.rows(); q0 += block) {
    const Eigen::Index n = std::min(block, queries.rows() - q0);
    const RowMatrix sim = queries.middleRows(q0, n) * references.transpose();
    for (Eigen::Index i = 0; i < n; ++i) {
      Eigen::Index best = 0;
      sim.row(i).maxCoeff(&best);  // first maximum on ties
      nearest[q0 + i] = best;
    }
  }
  return nearest;
}

double precision_at_1(const RowMatrix& queries, const std::vector<int>& query_labels, const RowMatrix& references,
                      const std::vector<int>& reference_labels) {
  if (static_cast<Eigen::Index>(query_labels.size()) != queries.rows() ||
      static_cast<Eigen::Index>(reference_labels.size()) != references.rows()) {
    throw std::invalid_argument("precision_at_1: label counts do not match the number of rows");
  }
  if (queries.rows() == 0) throw std::invalid_argument("precision_at_1: no queries");
  const std::vector<int64_t> nearest = nearest_by_inner_product(queries, references);
  int64_t hits = 0;
  for (size_t i = 0; i < nearest.size(); ++i) hits += reference_labels[nearest[i]] == query_labels[i];
  return double(hits) / double(nearest.size());
}

}  // namespace torus::eval
