// conv2d followed by 2x2 stride-2 max pooling as one primitive. Fused one image at a time, the
// convolution's output (the largest activation of a small conv net: 100 KB per image for
// FmnistConvNet's first layer) and its gradient live only in a per-thread buffer in cache instead
// of crossing memory twice in each direction, and the batch-sized tensor is never kept.
#pragma once

#include "nn/conv2d.hpp"

namespace torus::nn {

// max_pool2d(conv2d(x, weight, bias, g), 2), with the same values and gradients bit for bit.
// When the convolution's output has an odd height or width (2x2 windows do not tile it) it is
// computed as exactly that composition.
template <typename T>
Var<T> conv2d_max_pool2(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dGeometry& g = {});

}  // namespace torus::nn
