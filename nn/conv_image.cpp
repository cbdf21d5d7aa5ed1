#include "nn/conv_image.hpp"

#include "nn/im2col.hpp"

#include <algorithm>
#include <string>

namespace torus::nn {


template <typename T>
ConvShape conv_shape(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dGeometry& g, const char* op) {
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  const auto name = [op] { return std::string(op); };  // built only for a message: no allocation per call
  if (xs.rank() != 4 || ws.rank() != 4 || xs[1] != ws[1]) {
    throw ShapeError(name() + ": input " + xs.str() + " and weight " + ws.str() + " must be (N, C, H, W) and (O, C, kh, kw)");
  }
  if (bias.valid() && bias.shape() != Shape{ws[0]}) {
    throw ShapeError(name() + ": bias " + bias.shape().str() + " must be (" + std::to_string(ws[0]) + ")");
  }
  if (g.stride < 1 || g.padding < 0 || g.dilation < 1) throw ShapeError(name() + ": stride and dilation must be >= 1, padding >= 0");
  ConvShape s{xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], 0, 0, g.stride, g.padding, g.dilation};
  s.Ho = (s.H + 2 * s.padding - s.dilation * (s.kh - 1) - 1) / s.stride + 1;
  s.Wo = (s.W + 2 * s.padding - s.dilation * (s.kw - 1) - 1) / s.stride + 1;
  if (s.Ho < 1 || s.Wo < 1) throw ShapeError(name() + ": kernel " + ws.str() + " does not fit input " + xs.str());
  return s;
}

template <typename T>
void conv_image_forward(const T* image, const T* weight, const T* bias, const ConvShape s, T* cols, T* out) {
  im2col(cols, image, s);
  RowMap<T> y(out, s.O, s.pixels());
  y.noalias() = ConstRowMap<T>(weight, s.O, s.patch()) * ConstRowMap<T>(cols, s.patch(), s.pixels());
  if (bias)
    for (int64_t o = 0; o < s.O; ++o) y.row(o).array() += bias[o];
}

template <typename T>
void conv_image_backward(const T* dout, const T* image, const T* weight, const ConvShape s, T* cols, T* dcols, T* dW,
                         T* dimage, bool zero_dimage) {
  const ConstRowMap<T> d(dout, s.O, s.pixels());
  if (dW) {  // dW += dout cols^T
    im2col(cols, image, s);
    RowMap<T>(dW, s.O, s.patch()).noalias() += d * ConstRowMap<T>(cols, s.patch(), s.pixels()).transpose();
  }
  if (dimage) {  // dcols = W^T dout, then back onto the image's pixels
    RowMap<T>(dcols, s.patch(), s.pixels()).noalias() = ConstRowMap<T>(weight, s.O, s.patch()).transpose() * d;
    if (zero_dimage) std::fill(dimage, dimage + s.image(), T(0));
    col2im_add(dimage, dcols, s);
  }
}

#define TORUS_INSTANTIATE(T)                                                                                           \
  template ConvShape conv_shape(const Var<T>&, const Var<T>&, const Var<T>&, const Conv2dGeometry&, const char*);    \
  template void conv_image_forward(const T*, const T*, const T*, ConvShape, T*, T*);                                 \
  template void conv_image_backward(const T*, const T*, const T*, ConvShape, T*, T*, T*, T*, bool);
TORUS_INSTANTIATE(float)
TORUS_INSTANTIATE(double)
#undef TORUS_INSTANTIATE

}  // namespace torus::nn
