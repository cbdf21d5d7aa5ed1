// The column buffers of a 2-D convolution: im2col lays one image's k x k windows out as columns
// (so the convolution is one GEMM), col2im_add sends column gradients back to the pixels they
// were read from. Kernels only: the per-image convolution is conv_image.hpp, the op conv2d.hpp.
// Internal to nn (not installed).
#pragma once

#include <cstdint>

namespace torus::nn {

// The convolution's sizes: x (N, C, H, W), weight (O, C, kh, kw), output (N, O, Ho, Wo); also the
// state conv2d keeps in its node.
struct ConvShape {
  int64_t N, C, H, W, O, kh, kw, Ho, Wo, stride, padding, dilation;
  int64_t patch() const { return C * kh * kw; }
  int64_t pixels() const { return Ho * Wo; }
  int64_t image() const { return C * H * W; }
};

// cols (C kh kw, Ho Wo) of one image (C, H, W): one column per output pixel, zero where the
// window leaves the image.
template <typename T>
void im2col(T* cols, const T* image, ConvShape s);

// dimage (C, H, W) += col2im(dcols): every column entry goes back to the input pixel it was read
// from. dcols is scratch: some of its entries are zeroed on the way.
template <typename T>
void col2im_add(T* dimage, T* dcols, ConvShape s);

}  // namespace torus::nn
