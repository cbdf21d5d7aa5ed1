// Seeded random matrices and Gram matrices for the geometry tests (double precision).
#pragma once

#include "geometry/row_matrix.hpp"

#include <cstdint>
#include <random>

namespace torus::geometry::testing {

inline RowMatrix<double> uniform_matrix(Eigen::Index N, Eigen::Index M, std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  RowMatrix<double> x(N, M);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = dist(rng);
  return x;
}

inline RowMatrix<double> gaussian_matrix(Eigen::Index N, Eigen::Index M, std::uint64_t seed, double mean = 0.0,
                                         double sd = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(mean, sd);
  RowMatrix<double> x(N, M);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = dist(rng);
  return x;
}

// (N, N) matrix of row inner products.
inline RowMatrix<double> gram(const RowMatrix<double>& x) { return x * x.transpose(); }

inline double max_abs_diff(const RowMatrix<double>& a, const RowMatrix<double>& b) {
  return (a - b).cwiseAbs().maxCoeff();
}

}  // namespace torus::geometry::testing
