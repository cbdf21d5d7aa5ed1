#include "geometry/grid_quantizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace torus::geometry {

namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

GridQuantizer::GridQuantizer(ArrayX<double> minimum, ArrayX<double> maximum, int bits)
    : minimum_(std::move(minimum)), maximum_(std::move(maximum)), bits_(bits) {
  if (bits < 1 || bits > 16) throw std::invalid_argument("GridQuantizer: bits must be in [1, 16], got " + std::to_string(bits));
  if (minimum_.size() != maximum_.size()) {
    throw std::invalid_argument("GridQuantizer: " + std::to_string(minimum_.size()) + " minima but " +
                                std::to_string(maximum_.size()) + " maxima");
  }
  scale_.resize(minimum_.size());
  for (Eigen::Index d = 0; d < minimum_.size(); ++d) {
    const double m = minimum_[d], M = maximum_[d];
    if (!std::isfinite(m) || !std::isfinite(M)) {
      throw std::invalid_argument("GridQuantizer: non-finite range in dimension " + std::to_string(d));
    }
    // The reference stops the whole run here ("collapsed range"): V / (M - m) would be infinite.
    if (!(M > m)) {
      throw std::invalid_argument("GridQuantizer: collapsed range in dimension " + std::to_string(d) + " (min " +
                                  number(m) + ", max " + number(M) + ")");
    }
    scale_[d] = static_cast<double>(levels()) / (M - m);
    if (!std::isfinite(scale_[d])) {
      throw std::invalid_argument("GridQuantizer: range too small in dimension " + std::to_string(d));
    }
  }
}

template <typename T>
GridQuantizer GridQuantizer::fit(const Eigen::Ref<const RowMatrix<T>>& reference, int bits) {
  if (reference.rows() < 1) throw std::invalid_argument("GridQuantizer::fit: no reference rows");
  const Eigen::Index D = reference.cols();
  ArrayX<double> lo(D), hi(D);
  for (Eigen::Index d = 0; d < D; ++d) {
    double m = std::numeric_limits<double>::infinity(), M = -m;
    for (Eigen::Index n = 0; n < reference.rows(); ++n) {
      const double v = static_cast<double>(reference(n, d));
      if (!std::isfinite(v)) {
        throw std::invalid_argument("GridQuantizer::fit: non-finite value at row " + std::to_string(n) +
                                    ", dimension " + std::to_string(d));
      }
      m = std::min(m, v);
      M = std::max(M, v);
    }
    lo[d] = m;
    hi[d] = M;
  }
  return GridQuantizer(std::move(lo), std::move(hi), bits);
}

template <typename T>
RowMatrix<std::int32_t> GridQuantizer::encode(const Eigen::Ref<const RowMatrix<T>>& x) const {
  if (x.cols() != dim()) {
    throw std::invalid_argument("GridQuantizer::encode: expected " + std::to_string(dim()) + " columns, got " +
                                shape_string(x.rows(), x.cols()));
  }
  const double top = levels() - 1;
  RowMatrix<std::int32_t> q(x.rows(), x.cols());  // (N, D)
  for (Eigen::Index n = 0; n < x.rows(); ++n) {
    for (Eigen::Index d = 0; d < x.cols(); ++d) {
      const double v = static_cast<double>(x(n, d));
      if (!std::isfinite(v)) {
        throw std::invalid_argument("GridQuantizer::encode: non-finite value at row " + std::to_string(n) +
                                    ", dimension " + std::to_string(d));
      }
      const double c = std::min(std::floor((v - minimum_[d]) * scale_[d]), top);  // no clip at the bottom
      if (c < static_cast<double>(std::numeric_limits<std::int32_t>::min())) {
        throw std::invalid_argument("GridQuantizer::encode: code below the int32 range at row " + std::to_string(n) +
                                    ", dimension " + std::to_string(d));
      }
      q(n, d) = static_cast<std::int32_t>(c);
    }
  }
  return q;
}

RowMatrix<float> GridQuantizer::values(const Eigen::Ref<const RowMatrix<std::int32_t>>& q) const {
  const double V = levels();
  RowMatrix<float> v(q.rows(), q.cols());  // (N, D)
  for (Eigen::Index n = 0; n < q.rows(); ++n)
    for (Eigen::Index d = 0; d < q.cols(); ++d) v(n, d) = static_cast<float>(q(n, d) / V);
  return v;
}

template GridQuantizer GridQuantizer::fit<float>(const Eigen::Ref<const RowMatrix<float>>&, int);
template GridQuantizer GridQuantizer::fit<double>(const Eigen::Ref<const RowMatrix<double>>&, int);
template RowMatrix<std::int32_t> GridQuantizer::encode<float>(const Eigen::Ref<const RowMatrix<float>>&) const;
template RowMatrix<std::int32_t> GridQuantizer::encode<double>(const Eigen::Ref<const RowMatrix<double>>&) const;

}  // namespace torus::geometry
