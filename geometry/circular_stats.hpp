// Circular statistics of embeddings (method.md 8, "circvar"): per-circle mean direction and
// mean resultant length of angles in turns, and the circular variance of a whole set, either from
// its rows in any embedding space or directly from torus angles. Sums run in double for float
// input too. Evaluation only: nothing here is differentiable or quantises.
#pragma once

#include "geometry/row_matrix.hpp"

namespace torus::geometry {

// Mean direction of each circle of u (N, K) in turns, in [0, 1). A circle whose resultant is
// exactly zero has no mean direction; atan2(0, 0) then reports 0. Throws for N == 0.
template <typename T>
ArrayX<T> circular_mean(const Eigen::Ref<const RowMatrix<T>>& u);

// R_k = |mean_n (cos 2 pi u_nk, sin 2 pi u_nk)| per circle, in [0, 1]. Throws for N == 0.
template <typename T>
ArrayX<T> mean_resultant_length(const Eigen::Ref<const RowMatrix<T>>& u);

// circvar of (N, M) rows: normalise each row to unit L2 (a zero row contributes zero, as with
// the kNormEps floor of l2_normalize_rows), average, return 1 - ||mean||. 0 = all rows identical
// in direction, near 1 = spread evenly. Throws for an empty matrix.
template <typename T>
T circular_variance_rows(const Eigen::Ref<const RowMatrix<T>>& E);

// The same quantity from angles u (N, K): 1 - sqrt((1/K) sum_k R_k^2). Equal to
// circular_variance_rows of clifford_project(u) or of pairs_from_angles(u). Throws for K == 0.
template <typename T>
T circular_variance_torus(const Eigen::Ref<const RowMatrix<T>>& u);

}  // namespace torus::geometry
