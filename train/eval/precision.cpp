#include "train/eval/precision.hpp"

#include "geometry/code_search.hpp"

#include <stdexcept>
#include <string>

namespace torus::eval {

namespace {
geometry::KnnResult<float> nearest_one(const RowMatrix& queries, const RowMatrix& references, int threads) {
  if (queries.cols() != references.cols()) {
    throw std::invalid_argument("nearest_by_inner_product: queries have " + std::to_string(queries.cols()) +
                                " dimensions, references " + std::to_string(references.cols()));
  }
  if (references.rows() == 0) throw std::invalid_argument("nearest_by_inner_product: no references");
  return geometry::knn_inner_product(queries, references, 1, threads);
}
}  // namespace

std::vector<int64_t> nearest_by_inner_product(const RowMatrix& queries, const RowMatrix& references, int threads) {
  const geometry::KnnResult<float> knn = nearest_one(queries, references, threads);
  return std::vector<int64_t>(knn.indices.data(), knn.indices.data() + knn.indices.rows());
}

double label_match_rate(const geometry::RowMatrix<int64_t>& nearest, const std::vector<int>& query_labels,
                        const std::vector<int>& reference_labels) {
  if (static_cast<Eigen::Index>(query_labels.size()) != nearest.rows())
    throw std::invalid_argument("precision_at_1: " + std::to_string(query_labels.size()) + " query labels for " +
                                std::to_string(nearest.rows()) + " queries");
  if (nearest.rows() == 0) throw std::invalid_argument("precision_at_1: no queries");
  int64_t hits = 0;
  for (Eigen::Index i = 0; i < nearest.rows(); ++i) {
    const int64_t r = nearest(i, 0);
    if (r < 0 || r >= static_cast<int64_t>(reference_labels.size()))
      throw std::invalid_argument("precision_at_1: neighbour " + std::to_string(r) + " outside the " +
                                  std::to_string(reference_labels.size()) + " reference labels");
    hits += reference_labels[size_t(r)] == query_labels[size_t(i)];
  }
  return double(hits) / double(nearest.rows());
}

double precision_at_1(const RowMatrix& queries, const std::vector<int>& query_labels, const RowMatrix& references,
                      const std::vector<int>& reference_labels, int threads) {
  if (static_cast<Eigen::Index>(query_labels.size()) != queries.rows() ||
      static_cast<Eigen::Index>(reference_labels.size()) != references.rows()) {
    throw std::invalid_argument("precision_at_1: label counts do not match the number of rows");
  }
  if (queries.rows() == 0) throw std::invalid_argument("precision_at_1: no queries");
  return label_match_rate(nearest_one(queries, references, threads).indices, query_labels, reference_labels);
}

}  // namespace torus::eval
