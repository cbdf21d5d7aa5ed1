// One image of a 2-D convolution, forward and backward, as conv2d runs it (im2col plus one GEMM
// per image): shared by conv2d and the fused conv2d_max_pool2 so both compute the same values.
// Internal to nn (not installed).
#pragma once

#include "autodiff/tensor.hpp"
#include "nn/conv2d.hpp"
#include "nn/im2col.hpp"

#include <cstdint>

namespace torus::nn {

// Row-major views of a plane of a batch tensor or of an im2col buffer, for the per-image GEMMs.
template <typename T>
using RowMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <typename T>
using ConstRowMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// Checks x (N, C, H, W), weight (O, C, kh, kw), bias (O) or invalid, and the geometry; throws
// ShapeError naming `op` and the shapes.
template <typename T>
ConvShape conv_shape(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dGeometry& g, const char* op);

// out (O, Ho Wo) = W (O, C kh kw) im2col(image) + bias; cols is (patch, pixels) scratch.
template <typename T>
void conv_image_forward(const T* image, const T* weight, const T* bias, ConvShape s, T* cols, T* out);

// From dout (O, Ho Wo) of one image: dW (O, patch) += dout cols^T when dW is given, and, when
// dimage is given, dimage (C, H, W) += col2im(W^T dout), zeroed first if zero_dimage. cols and
// dcols are (patch, pixels) scratch.
template <typename T>
void conv_image_backward(const T* dout, const T* image, const T* weight, ConvShape s, T* cols, T* dcols, T* dW, T* dimage,
                         bool zero_dimage);

// The sum of n values in an association that does not depend on the pointer's alignment (16
// running partial sums, then pairwise), unlike Eigen's sum(), which peels to an aligned start:
// conv2d and conv2d_max_pool2 sum the bias gradient of buffers at different offsets and must agree
// bit for bit.
template <typename T>
T fixed_order_sum(const T* values, int64_t n) {
  T partial[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) partial[j] += values[i + j];
  for (int j = 0; i < n; ++i, ++j) partial[j] += values[i];
  for (int width = 8; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) partial[j] += partial[j + width];
  return partial[0];
}

}  // namespace torus::nn
