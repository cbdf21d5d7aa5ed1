// Pooling over the spatial axes of NCHW tensors: max and average over k x k windows (no padding;
// windows that would leave the image are dropped, as PyTorch's floor mode), and global average
// pooling. Max sends each window's gradient to its first maximum.
#pragma once

#include "autodiff/ops.hpp"

namespace torus::nn {

// (N, C, H, W) -> (N, C, (H - k) / stride + 1, (W - k) / stride + 1); stride 0 means k.
template <typename T>
Var<T> max_pool2d(const Var<T>& x, int64_t kernel, int64_t stride = 0);
template <typename T>
Var<T> avg_pool2d(const Var<T>& x, int64_t kernel, int64_t stride = 0);

// (N, C, H, W) -> (N, C): the mean of each channel.
template <typename T>
Var<T> global_avg_pool(const Var<T>& x) {
  const Shape& s = x.shape();
  return mean(reshape(x, {s[0], s[1], -1}), 2);
}

}  // namespace torus::nn
