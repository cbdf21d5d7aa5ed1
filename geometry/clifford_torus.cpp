#include "geometry/clifford_torus.hpp"

#include "geometry/flat_torus.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace torus::geometry {

namespace {
template <typename T>
constexpr T kTwoPi = 2 * std::numbers::pi_v<T>;

// The angle 2 pi h of a period-1 coordinate. Wrapping first keeps the argument in [0, 2 pi):
// torusC's raw h drifts far from 0 in training, and 2 pi h formed in float at h ~ 1000 is already
// off by ~5e-4 rad before cos sees it, while h - floor(h) loses nothing for h >= 0.
template <typename T>
T turns_to_radians(T h) {
  return kTwoPi<T> * wrap01(h);
}
}  // namespace

template <typename T>
void clifford_project(const T* h, int64_t rows, int64_t D, T* c) {
  for (int64_t n = 0; n < rows; ++n) {
    const T* hn = h + n * D;   // (D)
    T* cn = c + n * 2 * D;     // (2D): cosines, then sines
    for (int64_t d = 0; d < D; ++d) {
      const T angle = turns_to_radians(hn[d]);
      cn[d] = std::cos(angle);
      cn[D + d] = std::sin(angle);
    }
  }
}

template <typename T>
RowMatrix<T> clifford_project(const Eigen::Ref<const RowMatrix<T>>& h) {
  const Eigen::Index N = h.rows(), D = h.cols();
  RowMatrix<T> c(N, 2 * D);  // (N, 2D)
  for (Eigen::Index n = 0; n < N; ++n) clifford_project(h.row(n).data(), 1, D, c.row(n).data());  // rows may be strided
  return c;
}

template <typename T>
RowMatrix<T> unwrap_pairs(const Eigen::Ref<const RowMatrix<T>>& z) {
  if (z.cols() % 2 != 0) {
    throw std::invalid_argument(std::string("unwrap_pairs: expected (N, 2K) pairs, got an odd number of columns ") +
                                shape_string(z.rows(), z.cols()));
  }
  const Eigen::Index N = z.rows(), K = z.cols() / 2;
  RowMatrix<T> u(N, K);  // (N, K)
  for (Eigen::Index n = 0; n < N; ++n) {
    for (Eigen::Index k = 0; k < K; ++k) {
      // atan2 / 2 pi lies in [-1/2, 1/2]; wrap01 moves it to [0, 1) and folds a rounded 1 to 0,
      // which Python's % in the reference does not do (-1e-20 % 1.0 == 1.0 there).
      u(n, k) = wrap01(std::atan2(z(n, 2 * k + 1), z(n, 2 * k)) / kTwoPi<T>);
    }
  }
  return u;
}

template <typename T>
RowMatrix<T> pairs_from_angles(const Eigen::Ref<const RowMatrix<T>>& u) {
  const Eigen::Index N = u.rows(), K = u.cols();
  RowMatrix<T> z(N, 2 * K);  // (N, 2K)
  for (Eigen::Index n = 0; n < N; ++n) {
    for (Eigen::Index k = 0; k < K; ++k) {
      const T angle = turns_to_radians(u(n, k));
      z(n, 2 * k) = std::cos(angle);
      z(n, 2 * k + 1) = std::sin(angle);
    }
  }
  return z;
}

template void clifford_project<float>(const float*, int64_t, int64_t, float*);
template void clifford_project<double>(const double*, int64_t, int64_t, double*);
template RowMatrix<float> clifford_project<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> clifford_project<double>(const Eigen::Ref<const RowMatrix<double>>&);
template RowMatrix<float> unwrap_pairs<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> unwrap_pairs<double>(const Eigen::Ref<const RowMatrix<double>>&);
template RowMatrix<float> pairs_from_angles<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> pairs_from_angles<double>(const Eigen::Ref<const RowMatrix<double>>&);

}  // namespace torus::geometry
