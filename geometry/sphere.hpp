// The sphere (method.md 3.1): its normalisation (l2_normalize_rows, from normalize.hpp, where the
// pair normalisation of torusN lives too) and a fixed random rotation for the sphere's
// rotation-invariance oracle (method.md 15.3). Plain Eigen on (N, D) row-major matrices; no
// autodiff and no angle conversions (see clifford_torus.hpp).
#pragma once

#include "geometry/normalize.hpp"
#include "geometry/row_matrix.hpp"

#include <cstdint>

namespace torus::geometry {

// A fixed rotation in SO(D), the same for the same (D, seed) on every run: Q from the QR of a
// (D, D) standard Gaussian matrix drawn from std::mt19937_64(seed), columns sign-corrected by
// sign(R_jj) and column 0 negated if det < 0. Rotate samples as h * R. Throws for D < 1.
template <typename T>
RowMatrix<T> random_rotation(int D, std::uint64_t seed);

}  // namespace torus::geometry
