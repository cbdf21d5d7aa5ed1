#include "geometry/normalize.hpp"

#include <stdexcept>
#include <string>

namespace torus::geometry {

template <typename T>
RowMatrix<T> l2_normalize_rows(const Eigen::Ref<const RowMatrix<T>>& h) {
  RowMatrix<T> z(h.rows(), h.cols());  // (N, D)
  for (Eigen::Index n = 0; n < h.rows(); ++n)  // row by row: an Eigen::Ref may have a row stride
    group_l2_normalize(h.row(n).data(), h.cols(), std::max<int64_t>(h.cols(), 1), T(kNormEps), z.row(n).data());
  return z;
}

template <typename T>
RowMatrix<T> pair_normalize_rows(const Eigen::Ref<const RowMatrix<T>>& h) {
  if (h.cols() % 2 != 0) {
    throw std::invalid_argument(std::string("pair_normalize_rows: D must be even to form pairs, got ") +
                                shape_string(h.rows(), h.cols()));
  }
  RowMatrix<T> z(h.rows(), h.cols());  // (N, D)
  for (Eigen::Index n = 0; n < h.rows(); ++n) group_l2_normalize(h.row(n).data(), h.cols(), int64_t(2), T(kNormEps), z.row(n).data());
  return z;
}

template RowMatrix<float> l2_normalize_rows<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> l2_normalize_rows<double>(const Eigen::Ref<const RowMatrix<double>>&);
template RowMatrix<float> pair_normalize_rows<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> pair_normalize_rows<double>(const Eigen::Ref<const RowMatrix<double>>&);

}  // namespace torus::geometry
