// Normalisations onto the sphere and onto torusN's product of circles (method.md 3.1, 3.2), and
// a fixed random rotation for the sphere's rotation-invariance oracle (method.md 15.3). Plain
// Eigen on (N, D) row-major matrices; no autodiff (the differentiable versions live in nn/) and
// no angle conversions (see clifford_torus.hpp).
#pragma once

#include "geometry/row_matrix.hpp"

#include <cstdint>

namespace torus::geometry {

// z = h / max(||h||, 1e-12) per row, like F.normalize: a zero row stays zero.
template <typename T>
RowMatrix<T> l2_normalize_rows(const Eigen::Ref<const RowMatrix<T>>& h);

// torusN: each adjacent pair (h_2k, h_2k+1) divided by max(rho_k, 1e-12), so each pair is a unit
// vector (or zero) and rows have norm sqrt(D/2). Throws std::invalid_argument for odd D.
template <typename T>
RowMatrix<T> pair_normalize_rows(const Eigen::Ref<const RowMatrix<T>>& h);

// A fixed rotation in SO(D), the same for the same (D, seed) on every run: Q from the QR of a
// (D, D) standard Gaussian matrix drawn from std::mt19937_64(seed), columns sign-corrected by
// sign(R_jj) and column 0 negated if det < 0. Rotate samples as h * R. Throws for D < 1.
template <typename T>
RowMatrix<T> random_rotation(int D, std::uint64_t seed);

}  // namespace torus::geometry
