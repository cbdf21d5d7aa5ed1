// 2-D convolution (cross-correlation, as PyTorch) of NCHW tensors: the primitive conv2d with its
// hand-written backward (conv2d.cpp), and the Conv2d module with PyTorch's layout and
// initialisation (conv2d_layer.cpp). Computed one image at a time (conv_image.cpp), out_n
// (O, Ho Wo) = W (O, C k k) im2col(x_n) (im2col.cpp), images spread over threads; the backward
// rebuilds im2col rather than keeping it for the batch. Groups are 1.
#pragma once

#include "autodiff/ops.hpp"
#include "nn/module.hpp"

#include <random>

namespace torus::nn {

struct Conv2dGeometry {
  int64_t stride = 1, padding = 0, dilation = 1;
};

// x (N, C, H, W), weight (O, C, kh, kw), bias (O) or an invalid Var for none -> (N, O, Ho, Wo),
// Ho = (H + 2 padding - dilation (kh - 1) - 1) / stride + 1.
template <typename T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dGeometry& g = {});

template <typename T>
class Conv2d : public Module<T> {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, std::mt19937_64& rng,
         const Conv2dGeometry& geometry = {}, bool bias = true);
  Var<T> forward(const Var<T>& x) override;
  // forward then 2x2 stride-2 max pooling, fused (conv_pool.hpp)
  Var<T> forward_max_pool2(const Var<T>& x);
  NamedParameters<T> parameters() override;

  Parameter<T> weight;  // (O, C, k, k): Kaiming-uniform(a = sqrt 5) = U(+-1/sqrt(C k k)), as PyTorch
  Parameter<T> bias;    // (O): U(+-1/sqrt(C k k)); empty without bias
  Conv2dGeometry geometry;
  bool has_bias;
};

extern template class Conv2d<float>;
extern template class Conv2d<double>;

}  // namespace torus::nn
