// L2 normalisation of consecutive groups of values: whole rows for the sphere (method.md 3.1),
// adjacent pairs for torusN (3.2). The one definition of that maths and of its epsilon: the
// differentiable op nn::group_l2_normalize computes its value with group_l2_normalize below.
// Plain loops on row-major buffers and Eigen wrappers; no autodiff, no angles (clifford_torus.hpp).
#pragma once

#include "geometry/row_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace torus::geometry {

// The clamp on every norm, F.normalize's default: large enough that a zero group gives 0 rather
// than NaN, small enough never to touch a real embedding.
inline constexpr double kNormEps = 1e-12;

// z = h / max(|group|, eps) for each of the n / group groups of `group` consecutive values of h
// (n values in all); rho, when given, receives each group's clamped norm (n / group values).
// Writes into the caller's buffers and allocates nothing; z may be h. The squares are summed in
// index order, so every caller gets the same bits.
template <typename T>
void group_l2_normalize(const T* h, int64_t n, int64_t group, T eps, T* z, T* rho = nullptr) {
  for (int64_t k = 0; k < n / group; ++k) {
    const T* hk = h + k * group;
    T sq = 0;
    for (int64_t j = 0; j < group; ++j) sq += hk[j] * hk[j];
    const T r = std::max(std::sqrt(sq), eps);
    if (rho) rho[k] = r;
    for (int64_t j = 0; j < group; ++j) z[k * group + j] = hk[j] / r;
  }
}

// z = h / max(||h||, 1e-12) per row, like F.normalize: a zero row stays zero.
template <typename T>
RowMatrix<T> l2_normalize_rows(const Eigen::Ref<const RowMatrix<T>>& h);

// torusN: each adjacent pair (h_2k, h_2k+1) divided by max(rho_k, 1e-12), so each pair is a unit
// vector (or zero) and rows have norm sqrt(D/2). Throws std::invalid_argument for odd D.
template <typename T>
RowMatrix<T> pair_normalize_rows(const Eigen::Ref<const RowMatrix<T>>& h);

}  // namespace torus::geometry
