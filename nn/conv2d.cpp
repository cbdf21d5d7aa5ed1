#include "nn/conv2d.hpp"

#include "autodiff/parallel.hpp"

#include <cmath>

namespace torus::nn {

namespace {
const OpName kConv2d("conv2d", "nn");

struct ConvShape {
  int64_t N, C, H, W, O, kh, kw, Ho, Wo, stride, padding, dilation;
  int64_t patch() const { return C * kh * kw; }
  int64_t pixels() const { return Ho * Wo; }
};

// cols (C kh kw, N Ho Wo): one column per output pixel, zero where the window leaves the image.
template <typename T>
void im2col(T* cols, const T* x, const ConvShape& s) {
  const int64_t width = s.N * s.pixels();
  parallel_for(s.patch(), width, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t c = r / (s.kh * s.kw), i = (r / s.kw) % s.kh, j = r % s.kw;
      T* row = cols + r * width;
      for (int64_t n = 0; n < s.N; ++n) {
        const T* plane = x + (n * s.C + c) * s.H * s.W;
        for (int64_t oy = 0; oy < s.Ho; ++oy) {
          const int64_t y = oy * s.stride - s.padding + i * s.dilation;
          T* dst = row + n * s.pixels() + oy * s.Wo;
          if (y < 0 || y >= s.H) {
            std::fill(dst, dst + s.Wo, T(0));
            continue;
          }
          for (int64_t ox = 0; ox < s.Wo; ++ox) {
            const int64_t xx = ox * s.stride - s.padding + j * s.dilation;
            dst[ox] = (xx >= 0 && xx < s.W) ? plane[y * s.W + xx] : T(0);
          }
        }
      }
    }
  });
}

// dx += col2im(dcols): every column entry goes back to the input pixel it was read from.
// Parallel over images (each writes only its own planes), sequential inside: repeatable.
template <typename T>
void col2im_add(T* dx, const T* dcols, const ConvShape& s) {
  const int64_t width = s.N * s.pixels();
  parallel_for(s.N, s.patch() * s.pixels(), [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      for (int64_t r = 0; r < s.patch(); ++r) {
        const int64_t c = r / (s.kh * s.kw), i = (r / s.kw) % s.kh, j = r % s.kw;
        const T* row = dcols + r * width + n * s.pixels();
        T* plane = dx + (n * s.C + c) * s.H * s.W;
        for (int64_t oy = 0; oy < s.Ho; ++oy) {
          const int64_t y = oy * s.stride - s.padding + i * s.dilation;
          if (y < 0 || y >= s.H) continue;
          for (int64_t ox = 0; ox < s.Wo; ++ox) {
            const int64_t xx = ox * s.stride - s.padding + j * s.dilation;
            if (xx >= 0 && xx < s.W) plane[y * s.W + xx] += row[oy * s.Wo + ox];
          }
        }
      }
  });
}

ConvShape stored_shape(const std::vector<int64_t>& v) {
  return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
}
}  // namespace

template <typename T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dGeometry& g) {
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  if (xs.rank() != 4 || ws.rank() != 4 || xs[1] != ws[1]) {
    throw ShapeError("conv2d: input " + xs.str() + " and weight " + ws.str() + " must be (N, C, H, W) and (O, C, kh, kw)");
  }
  if (bias.valid() && bias.shape() != Shape{ws[0]}) {
    throw ShapeError("conv2d: bias " + bias.shape().str() + " must be (" + std::to_string(ws[0]) + ")");
  }
  if (g.stride < 1 || g.padding < 0 || g.dilation < 1) throw ShapeError("conv2d: stride and dilation must be >= 1, padding >= 0");
  ConvShape s{xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], 0, 0, g.stride, g.padding, g.dilation};
  s.Ho = (s.H + 2 * s.padding - s.dilation * (s.kh - 1) - 1) / s.stride + 1;
  s.Wo = (s.W + 2 * s.padding - s.dilation * (s.kw - 1) - 1) / s.stride + 1;
  if (s.Ho < 1 || s.Wo < 1) throw ShapeError("conv2d: kernel " + ws.str() + " does not fit input " + xs.str());

  Tape<T>& tape = x.tape();
  BackwardFn<T> backward = [](Backward<T>& g) {
    const ConvShape s = stored_shape(g.node().ints);
    const int64_t width = s.N * s.pixels();
    // dout (N, O, Ho Wo) -> dO (O, N Ho Wo), the layout of the forward GEMM's result
    typename Tensor<T>::Matrix dO(s.O, width);
    for (int64_t n = 0; n < s.N; ++n)
      dO.middleCols(n * s.pixels(), s.pixels()) = g.dout().matrix(s.N * s.O, s.pixels()).middleRows(n * s.O, s.O);
    const auto cols = g.node().saved.matrix(s.patch(), width);
    if (g.needs(1)) {  // dW = dO cols^T
      Tensor<T>& dw = g.dx(1);
      dw.matrix(s.O, s.patch()).noalias() += dO * cols.transpose();
    }
    if (g.num_inputs() > 2 && g.needs(2)) g.dx(2).array() += dO.rowwise().sum().array();  // db = sum over pixels
    if (g.needs(0)) {  // dcols = W^T dO, then back to pixels
      const typename Tensor<T>::Matrix dcols = g.in(1).matrix(s.O, s.patch()).transpose() * dO;
      col2im_add(g.dx(0).data(), dcols.data(), s);
    }
  };
  Node<T>& node = bias.valid() ? tape.record(kConv2d, {x, weight, bias}, backward) : tape.record(kConv2d, {x, weight}, backward);
  node.ints.assign({s.N, s.C, s.H, s.W, s.O, s.kh, s.kw, s.Ho, s.Wo, s.stride, s.padding, s.dilation});
  const int64_t width = s.N * s.pixels();
  node.saved.resize(Shape{s.patch(), width});
  im2col(node.saved.data(), x.value().data(), s);
  // out (O, N Ho Wo) = W cols (+ b), then rows regrouped per image into (N, O, Ho, Wo)
  typename Tensor<T>::Matrix out = weight.value().matrix(s.O, s.patch()) * node.saved.matrix(s.patch(), width);
  if (bias.valid()) out.colwise() += bias.value().matrix(s.O, 1).col(0);
  node.value.resize(Shape{s.N, s.O, s.Ho, s.Wo});
  auto dst = node.value.matrix(s.N * s.O, s.pixels());
  for (int64_t n = 0; n < s.N; ++n) dst.middleRows(n * s.O, s.O) = out.middleCols(n * s.pixels(), s.pixels());
  return tape.last();
}

template <typename T>
Conv2d<T>::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, std::mt19937_64& rng,
                  const Conv2dGeometry& g, bool with_bias)
    : geometry(g), has_bias(with_bias) {
  if (in_channels <= 0 || out_channels <= 0 || kernel <= 0) {
    throw std::invalid_argument("Conv2d: channels and kernel must be positive");
  }
  const double bound = 1.0 / std::sqrt(double(in_channels * kernel * kernel));
  std::uniform_real_distribution<double> u(-bound, bound);
  weight.value = Tensor<T>(Shape{out_channels, in_channels, kernel, kernel});
  for (int64_t i = 0; i < weight.value.numel(); ++i) weight.value[i] = T(u(rng));
  if (has_bias) {
    bias.value = Tensor<T>(Shape{out_channels});
    for (int64_t i = 0; i < bias.value.numel(); ++i) bias.value[i] = T(u(rng));
  }
}

template <typename T>
Var<T> Conv2d<T>::forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  return conv2d(x, tape.param(weight), has_bias ? tape.param(bias) : Var<T>(), geometry);
}

template <typename T>
NamedParameters<T> Conv2d<T>::parameters() {
  NamedParameters<T> out{{"weight", &weight}};
  if (has_bias) out.emplace_back("bias", &bias);
  return out;
}

template Var<float> conv2d(const Var<float>&, const Var<float>&, const Var<float>&, const Conv2dGeometry&);
template Var<double> conv2d(const Var<double>&, const Var<double>&, const Var<double>&, const Conv2dGeometry&);
template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace torus::nn
