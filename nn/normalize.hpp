// L2 normalisation of consecutive groups of the last axis as a differentiable op: the whole
// vector for the sphere (method.md 3.1), adjacent pairs for torusN (3.2). Its value is the
// geometry kernel geometry::group_l2_normalize (geometry/normalize.hpp, which also defines the
// epsilon); this file adds the hand-written backward, because the clamp on the norm is where
// stability lives: the norm is clamped at eps before dividing, so a zero group gives output 0
// and a finite (if large, 1/eps) gradient.
#pragma once

#include "autodiff/ops.hpp"
#include "geometry/normalize.hpp"

namespace torus::nn {

using geometry::kNormEps;  // F.normalize's default, as the reference uses; defined once, in geometry

// h (..., G * g) -> z with every group of g consecutive entries divided by max(|group|, eps).
template <typename T>
Var<T> group_l2_normalize(const Var<T>& h, int64_t group, double eps = kNormEps);

// Whole last axis (sphere).
template <typename T>
Var<T> sphere_normalize(const Var<T>& h, double eps = kNormEps) {
  return group_l2_normalize(h, h.shape()[h.shape().rank() - 1], eps);
}

// Adjacent pairs (torusN): (h_2k, h_2k+1) -> unit vectors; the last axis must be even.
template <typename T>
Var<T> pair_normalize(const Var<T>& h, double eps = kNormEps) {
  return group_l2_normalize(h, 2, eps);
}

}  // namespace torus::nn
