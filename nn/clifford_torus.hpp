// torusC's Clifford map as a differentiable op (method.md 3.3): its value is the geometry kernel
// geometry::clifford_project (wrap first, then cos and sin of 2 pi h, block order); this file adds
// the gradient. Wrapping subtracts a piecewise-constant integer, so it changes neither the
// gradient nor, being periodic, the value: only the float rounding of 2 pi h at large |h|.
#pragma once

#include "autodiff/ops.hpp"

namespace torus::nn {

// c(h) = [cos 2 pi h, sin 2 pi h] along the last axis, all cosines first: (..., D) -> (..., 2D).
// Periodic in h, so its value and its gradient are unchanged by h -> h + n for any integer n.
// dh = 2 pi (cos(2 pi h) dsin - sin(2 pi h) dcos), read off the output (nothing else is saved).
template <typename T>
Var<T> clifford_project(const Var<T>& h);

}  // namespace torus::nn
