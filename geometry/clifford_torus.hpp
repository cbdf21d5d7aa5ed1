// The Clifford map of the flat torus and the angle <-> unit-pair conversions of torusN
// (method.md 3.2, 3.3). clifford_project is torusC's c(h) in block order (the one definition: the
// differentiable nn::clifford_project calls it); unwrap_pairs is the atan2 inverse applied to
// torusN before quantisation; pairs_from_angles undoes it. Plain Eigen, no autodiff and no
// normalisation (see normalize.hpp). Spell the scalar out when calling,
// clifford_project<float>(h): a template argument cannot be deduced through Eigen::Ref.
#pragma once

#include "geometry/row_matrix.hpp"

#include <cstdint>

namespace torus::geometry {

// (N, D) period-1 coordinates -> (N, 2D) [cos(2 pi h_1..D), sin(2 pi h_1..D)], all cosines first.
// Rows have norm sqrt(D) and <c(a), c(b)> = sum_d cos(2 pi (a_d - b_d)). Each h is wrapped into
// [0, 1) before 2 pi h is formed: the value is periodic anyway, and torusC's raw h drifts far from
// 0 in training, where 2 pi h formed in float at h ~ 1000 is already off by ~5e-4 rad.
template <typename T>
RowMatrix<T> clifford_project(const Eigen::Ref<const RowMatrix<T>>& h);

// The same map on raw row-major buffers, h (rows, D) into the caller's c (rows, 2D), allocating
// nothing: the form the differentiable nn::clifford_project computes its value with.
template <typename T>
void clifford_project(const T* h, int64_t rows, int64_t D, T* c);

// (N, 2K) pairwise-normalised torusN vectors -> (N, K) angles in turns, in [0, 1):
// u_k = atan2(z_{2k+1}, z_{2k}) / 2 pi, wrapped. Even column = cos (x), odd column = sin (y).
// A zero pair gives angle 0. Throws std::invalid_argument for an odd number of columns.
template <typename T>
RowMatrix<T> unwrap_pairs(const Eigen::Ref<const RowMatrix<T>>& z);

// (N, K) angles in turns -> (N, 2K) interleaved (cos 2 pi u_k, sin 2 pi u_k): the inverse of
// unwrap_pairs, and the torusN layout (adjacent pairs), not the Clifford block layout.
template <typename T>
RowMatrix<T> pairs_from_angles(const Eigen::Ref<const RowMatrix<T>>& u);

}  // namespace torus::geometry
