// Gradient clipping, in true gradient units (method.md 6 notes the reference clipped loss-scaled
// gradients; we clip the real ones and say so in the run configuration).
#pragma once

#include "nn/module.hpp"

namespace torus::nn {

// Scales all gradients by max_norm / (norm + 1e-6) when their global L2 norm exceeds max_norm
// (PyTorch clip_grad_norm_). Returns the norm before clipping.
template <typename T>
double clip_grad_norm(const NamedParameters<T>& params, double max_norm);

// Clamps every gradient element to [-limit, limit] (clip_grad_value_).
template <typename T>
void clip_grad_value(const NamedParameters<T>& params, double limit);

}  // namespace torus::nn
