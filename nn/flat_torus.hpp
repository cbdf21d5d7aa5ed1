// The differentiable wraparound of the flat torus (method.md 3.3): wrap01 and wrapped_diff as
// tape ops. Their values are the geometry kernels of geometry/flat_torus.hpp, element by element;
// this file adds only the gradient. Both subtract an integer that is piecewise constant in the
// input, so wherever they are differentiable the derivative is that of the identity (or of
// a - b). At the jumps the value changes by a whole turn while the point on the circle does not
// move, so the same derivative is kept there too: +1 / -1 everywhere, describing motion along
// the circle, which is smooth.
#pragma once

#include "autodiff/ops.hpp"

namespace torus::nn {

// x - floor(x), in [0, 1) (geometry::wrap01 per element); dx = dout.
template <typename T>
Var<T> wrap01(const Var<T>& x);

// The shortest signed step from b to a on the unit circle, in [-1/2, 1/2) (geometry::wrapped_diff
// per element, with broadcasting); da = dout, db = -dout.
template <typename T>
Var<T> wrapped_diff(const Var<T>& a, const Var<T>& b);

}  // namespace torus::nn
