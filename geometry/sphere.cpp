#include "geometry/sphere.hpp"

#include <Eigen/LU>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>

namespace torus::geometry {

namespace {
// Uniform in (0, 1] from the top 53 bits; never 0, so the log below stays finite.
double uniform_open_closed(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;
}

// Box-Muller on raw mt19937_64 output rather than std::normal_distribution, whose algorithm is
// left to the standard library: libstdc++ and libc++ would give different rotations for one seed.
double standard_normal(std::mt19937_64& rng) {
  const double r = std::sqrt(-2.0 * std::log(uniform_open_closed(rng)));
  return r * std::cos(2.0 * std::numbers::pi * uniform_open_closed(rng));
}
}  // namespace

template <typename T>
RowMatrix<T> random_rotation(int D, std::uint64_t seed) {
  if (D < 1) throw std::invalid_argument(std::string("random_rotation: dimension D must be at least 1, got ") + std::to_string(D));
  std::mt19937_64 rng(seed);
  Eigen::MatrixXd G(D, D);  // filled row by row, so the draw order is part of the contract
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) G(i, j) = standard_normal(rng);

  // Always in double: the float rotation is the rounded double one, orthogonal to float precision.
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(G);
  Eigen::MatrixXd Q = qr.householderQ();
  // Householder QR fixes no signs; making diag(R) positive makes (Q, R) unique, hence Q a
  // function of G alone (and Haar-distributed on O(D), Mezzadri 2007).
  for (int j = 0; j < D; ++j)
    if (qr.matrixQR()(j, j) < 0) Q.col(j) *= -1.0;
  if (Q.determinant() < 0) Q.col(0) *= -1.0;  // O(D) -> SO(D): a rotation, not a reflection
  return Q.cast<T>();
}

template RowMatrix<float> random_rotation<float>(int, std::uint64_t);
template RowMatrix<double> random_rotation<double>(int, std::uint64_t);

}  // namespace torus::geometry
