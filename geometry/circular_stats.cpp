#include "geometry/circular_stats.hpp"

#include "geometry/flat_torus.hpp"
#include "geometry/normalize.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace torus::geometry {

namespace {
// Per-circle means of cos and sin. Accumulated in double: 60 000 float terms summed in float
// would lose about three of float's seven digits.
struct MeanPhasor {
  Eigen::ArrayXd cos, sin;  // (K)
};

template <typename T>
MeanPhasor mean_phasor(const Eigen::Ref<const RowMatrix<T>>& u, const char* who) {
  if (u.rows() == 0) throw std::invalid_argument(std::string(who) + ": no samples, u is " + shape_string(u.rows(), u.cols()));
  const Eigen::Index N = u.rows(), K = u.cols();
  MeanPhasor m{Eigen::ArrayXd::Zero(K), Eigen::ArrayXd::Zero(K)};
  for (Eigen::Index n = 0; n < N; ++n) {
    for (Eigen::Index k = 0; k < K; ++k) {
      const double angle = 2.0 * std::numbers::pi * wrap01(static_cast<double>(u(n, k)));
      m.cos[k] += std::cos(angle);
      m.sin[k] += std::sin(angle);
    }
  }
  m.cos /= static_cast<double>(N);
  m.sin /= static_cast<double>(N);
  return m;
}
}  // namespace

template <typename T>
ArrayX<T> circular_mean(const Eigen::Ref<const RowMatrix<T>>& u) {
  const MeanPhasor m = mean_phasor<T>(u, "circular_mean");
  ArrayX<T> mean(u.cols());  // (K)
  for (Eigen::Index k = 0; k < u.cols(); ++k) {
    // Round to T before wrapping, so a double just below 1 cannot become a float 1.0.
    mean[k] = wrap01(static_cast<T>(std::atan2(m.sin[k], m.cos[k]) / (2.0 * std::numbers::pi)));
  }
  return mean;
}

template <typename T>
ArrayX<T> mean_resultant_length(const Eigen::Ref<const RowMatrix<T>>& u) {
  const MeanPhasor m = mean_phasor<T>(u, "mean_resultant_length");
  return (m.cos.square() + m.sin.square()).sqrt().template cast<T>();
}

template <typename T>
T circular_variance_rows(const Eigen::Ref<const RowMatrix<T>>& E) {
  if (E.rows() == 0 || E.cols() == 0) {
    throw std::invalid_argument(std::string("circular_variance_rows: need at least one row and column, got ") +
                                shape_string(E.rows(), E.cols()));
  }
  // In double, so that the mean of many unit rows keeps its precision; each row normalised by the
  // one normalisation kernel (normalize.hpp).
  Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(E.cols());  // (M)
  Eigen::RowVectorXd e(E.cols()), z(E.cols());                     // (M)
  for (Eigen::Index n = 0; n < E.rows(); ++n) {
    e = E.row(n).template cast<double>();
    group_l2_normalize(e.data(), int64_t(E.cols()), int64_t(E.cols()), kNormEps, z.data());
    mean += z;
  }
  mean /= static_cast<double>(E.rows());
  return static_cast<T>(1.0 - mean.norm());
}

template <typename T>
T circular_variance_torus(const Eigen::Ref<const RowMatrix<T>>& u) {
  if (u.cols() == 0) throw std::invalid_argument(std::string("circular_variance_torus: no circles, u is ") + shape_string(u.rows(), u.cols()));
  const MeanPhasor m = mean_phasor<T>(u, "circular_variance_torus");
  // Each row of c(u) has norm sqrt(K), so the mean of the unit rows is [C, S] / sqrt(K) and its
  // squared norm is (1/K) sum_k (C_k^2 + S_k^2) = (1/K) sum_k R_k^2.
  return static_cast<T>(1.0 - std::sqrt((m.cos.square() + m.sin.square()).mean()));
}

template ArrayX<float> circular_mean<float>(const Eigen::Ref<const RowMatrix<float>>&);
template ArrayX<double> circular_mean<double>(const Eigen::Ref<const RowMatrix<double>>&);
template ArrayX<float> mean_resultant_length<float>(const Eigen::Ref<const RowMatrix<float>>&);
template ArrayX<double> mean_resultant_length<double>(const Eigen::Ref<const RowMatrix<double>>&);
template float circular_variance_rows<float>(const Eigen::Ref<const RowMatrix<float>>&);
template double circular_variance_rows<double>(const Eigen::Ref<const RowMatrix<double>>&);
template float circular_variance_torus<float>(const Eigen::Ref<const RowMatrix<float>>&);
template double circular_variance_torus<double>(const Eigen::Ref<const RowMatrix<double>>&);

}  // namespace torus::geometry
