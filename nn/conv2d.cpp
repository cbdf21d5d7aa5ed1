#include "nn/conv2d.hpp"

#include "autodiff/parallel.hpp"
#include "nn/conv_image.hpp"
#include "nn/conv_pool.hpp"

#include <algorithm>
#include <cmath>

namespace torus::nn {

namespace {
const OpName kConv2d("conv2d", "nn");

// The output columns ox whose input column ox stride - padding + offset lies inside [0, W).
void valid_columns(const ConvShape& s, int64_t offset, int64_t& lo, int64_t& hi) {
  const int64_t first = s.padding - offset;  // smallest ox stride that lands on column 0
  lo = first <= 0 ? 0 : (first + s.stride - 1) / s.stride;
  const int64_t last = s.W - 1 + s.padding - offset;  // largest ox stride that lands inside
  hi = last < 0 ? 0 : std::min(s.Wo, last / s.stride + 1);
  if (hi < lo) hi = lo;
}

// A "same" stride-1 convolution (Wo == W): output pixel f = oy W + ox of cols row (c, i, j) reads
// input pixel f + shift with one shift for the whole row, so the row is a single contiguous copy
// of the plane (instead of Ho runs of Wo, each a call to memmove), after which the few columns
// that wrapped into a neighbouring image row are set to zero. Dilation does not break this.
bool shifted_rows(const ConvShape& s) { return s.stride == 1 && s.Wo == s.W; }

// For row (i, j) of a shifted_rows convolution: the flat shift, the output range [f0, f1) whose
// input pixel lies inside the plane, and the output columns [x0, x1) that do not wrap.
struct RowShift {
  int64_t shift, f0, f1, x0, x1;
};
RowShift row_shift(const ConvShape& s, int64_t i, int64_t j) {
  const int64_t dy = i * s.dilation - s.padding, dx = j * s.dilation - s.padding;
  const int64_t shift = dy * s.W + dx;
  const int64_t oy0 = std::clamp<int64_t>(-dy, 0, s.Ho), oy1 = std::clamp<int64_t>(s.H - dy, oy0, s.Ho);
  const int64_t f0 = std::min(std::max(oy0 * s.W, -shift), s.Ho * s.W);
  const int64_t f1 = std::max(f0, std::min(oy1 * s.W, s.H * s.W - shift));
  return {shift, f0, f1, std::clamp<int64_t>(-dx, 0, s.W), std::clamp<int64_t>(s.W - dx, 0, s.W)};
}

// Zeroes the columns of one cols row that lie outside [x0, x1) (the wrapped reads): a column at
// a time, as one or two columns are typical and per-line fills would be calls of a few bytes.
template <typename T>
void zero_wrapped_columns(T* row, const ConvShape s, const RowShift r) {
  auto zero_column = [&](int64_t x) {
    for (int64_t oy = 0; oy < s.Ho; ++oy) row[oy * s.W + x] = T(0);
  };
  for (int64_t x = 0; x < r.x0; ++x) zero_column(x);
  for (int64_t x = r.x1; x < s.W; ++x) zero_column(x);
}

// cols (C kh kw, Ho Wo) of one image: one column per output pixel, zero where the window leaves
// the image. Outside shifted_rows, the valid range of each row is found once, so the copy is a
// contiguous run for stride 1 instead of a bounds test per element.
template <typename T>
void im2col(T* cols, const T* image, const ConvShape s) {
  for (int64_t r = 0; r < s.patch(); ++r) {
    const int64_t c = r / (s.kh * s.kw), i = (r / s.kw) % s.kh, j = r % s.kw;
    const T* plane = image + c * s.H * s.W;
    T* row = cols + r * s.pixels();
    if (shifted_rows(s)) {
      const RowShift rs = row_shift(s, i, j);
      std::fill(row, row + rs.f0, T(0));
      std::copy(plane + rs.f0 + rs.shift, plane + rs.f1 + rs.shift, row + rs.f0);
      std::fill(row + rs.f1, row + s.pixels(), T(0));
      zero_wrapped_columns(row, s, rs);
      continue;
    }
    int64_t lo, hi;
    valid_columns(s, j * s.dilation, lo, hi);
    for (int64_t oy = 0; oy < s.Ho; ++oy) {
      const int64_t y = oy * s.stride - s.padding + i * s.dilation;
      T* dst = row + oy * s.Wo;
      if (y < 0 || y >= s.H) {
        std::fill(dst, dst + s.Wo, T(0));
        continue;
      }
      std::fill(dst, dst + lo, T(0));
      std::fill(dst + hi, dst + s.Wo, T(0));
      const T* src = plane + y * s.W - s.padding + j * s.dilation;
      if (s.stride == 1) std::copy(src + lo, src + hi, dst + lo);
      else
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * s.stride];
    }
  }
}

// dimage += col2im(dcols): every column entry goes back to the input pixel it was read from. The
// shifted_rows path first zeroes the wrapped columns of dcols (scratch the caller rewrites per
// image), so each row is one contiguous add.
template <typename T>
void col2im_add(T* dimage, T* dcols, const ConvShape s) {
  for (int64_t r = 0; r < s.patch(); ++r) {
    const int64_t c = r / (s.kh * s.kw), i = (r / s.kw) % s.kh, j = r % s.kw;
    T* row = dcols + r * s.pixels();
    T* plane = dimage + c * s.H * s.W;
    if (shifted_rows(s)) {
      const RowShift rs = row_shift(s, i, j);
      zero_wrapped_columns(row, s, rs);
      T* dst = plane + rs.f0 + rs.shift;
      const T* src = row + rs.f0;
      for (int64_t f = 0; f < rs.f1 - rs.f0; ++f) dst[f] += src[f];
      continue;
    }
    int64_t lo, hi;
    valid_columns(s, j * s.dilation, lo, hi);
    for (int64_t oy = 0; oy < s.Ho; ++oy) {
      const int64_t y = oy * s.stride - s.padding + i * s.dilation;
      if (y < 0 || y >= s.H) continue;
      T* dst = plane + y * s.W - s.padding + j * s.dilation;
      const T* src = row + oy * s.Wo;
      if (s.stride == 1)
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += src[ox];
      else
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox * s.stride] += src[ox];
    }
  }
}

template <typename T>
using RowMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <typename T>
using ConstRowMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
}  // namespace

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

// One image at a time: out_n (O, Ho Wo) = W (O, C k k) cols_n (C k k, Ho Wo) is already the NCHW
// layout, so nothing is permuted, and images are spread over threads (each GEMM single-threaded,
// which for these shapes is as fast as one large threaded GEMM). The im2col buffers (one per
// thread) live on the node and are rebuilt in the backward pass instead of being kept for the
// whole batch.
template <typename T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dGeometry& g) {
  const ConvShape s = conv_shape(x, weight, bias, g, "conv2d");
  const int chunks = int(std::min<int64_t>(num_threads(), s.N));
  Recording<T> rec = bias.valid() ? x.tape().record(kConv2d, {x, weight, bias}) : x.tape().record(kConv2d, {x, weight});
  rec.set_state(s);
  rec.value().resize(Shape{s.N, s.O, s.Ho, s.Wo});
  T* out = rec.value().data();
  Tensor<T>& scratch = rec.saved();  // per chunk: cols (patch, pixels)
  scratch.resize(Shape{chunks * s.patch() * s.pixels()});
  const T* b = bias.valid() ? bias.value().data() : nullptr;
  parallel_chunks(s.N, chunks, [&](int c, int64_t begin, int64_t end) {
    T* cols = scratch.data() + c * s.patch() * s.pixels();
    for (int64_t n = begin; n < end; ++n)
      conv_image_forward(x.value().data() + n * s.image(), weight.value().data(), b, s, cols, out + n * s.O * s.pixels());
  });
  return rec.backward([](Backward<T>& g) {
    const ConvShape s = op_state<ConvShape>(g);
    const int chunks = int(std::min<int64_t>(num_threads(), s.N));
    const bool need_x = g.needs(0), need_w = g.needs(1), need_b = g.num_inputs() > 2 && g.needs(2);
    Tensor<T>& scratch = g.saved();  // per chunk: cols (patch, pixels), dcols (patch, pixels), dW (O, patch)
    const int64_t per_chunk = 2 * s.patch() * s.pixels() + s.O * s.patch();
    scratch.resize(Shape{chunks * per_chunk});
    // The input gradient is zeroed one image at a time inside the threads (while that image is
    // in cache) when nothing has written it yet, rather than as one serial fill of the batch.
    bool assign_x = false;
    T* dx = need_x ? g.dx_whole(0, assign_x).data() : nullptr;
    parallel_chunks(s.N, chunks, [&](int c, int64_t begin, int64_t end) {
      T* cols = scratch.data() + c * per_chunk;
      T* dcols = cols + s.patch() * s.pixels();
      T* dW = dcols + s.patch() * s.pixels();
      std::fill(dW, dW + s.O * s.patch(), T(0));
      for (int64_t n = begin; n < end; ++n)
        conv_image_backward(g.dout().data() + n * s.O * s.pixels(), g.in(0).data() + n * s.image(), g.in(1).data(), s, cols,
                            dcols, need_w ? dW : nullptr, need_x ? dx + n * s.image() : nullptr, assign_x);
    });
    if (need_w) {  // partial sums added in chunk order: repeatable for a given thread count
      RowMap<T> dw(g.dx(1).data(), s.O, s.patch());
      for (int c = 0; c < chunks; ++c) dw += RowMap<T>(scratch.data() + c * per_chunk + 2 * s.patch() * s.pixels(), s.O, s.patch());
    }
    if (need_b) {  // db = sum of dout over images and pixels
      T* db = g.dx(2).data();
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t o = 0; o < s.O; ++o)
          db[o] += fixed_order_sum(g.dout().data() + (n * s.O + o) * s.pixels(), s.pixels());
    }
  });
}

template <typename T>
Conv2d<T>::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, std::mt19937_64& rng,
                  const Conv2dGeometry& g, bool with_bias)
    : geometry(g), has_bias(with_bias) {
  if (in_channels <= 0 || out_channels <= 0 || kernel <= 0) {
    throw std::invalid_argument("Conv2d: channels and kernel must be positive");
  }
  init_fan_in_uniform(weight, Shape{out_channels, in_channels, kernel, kernel}, has_bias ? &bias : nullptr,
                      in_channels * kernel * kernel, rng);
}

template <typename T>
Var<T> Conv2d<T>::forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  return conv2d(x, tape.param(weight), has_bias ? tape.param(bias) : Var<T>(), geometry);
}

template <typename T>
Var<T> Conv2d<T>::forward_max_pool2(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  return conv2d_max_pool2(x, tape.param(weight), has_bias ? tape.param(bias) : Var<T>(), geometry);
}

template <typename T>
NamedParameters<T> Conv2d<T>::parameters() {
  NamedParameters<T> out{{"weight", &weight}};
  if (has_bias) out.emplace_back("bias", &bias);
  return out;
}

#define TORUS_INSTANTIATE(T)                                                                                           \
  template ConvShape conv_shape(const Var<T>&, const Var<T>&, const Var<T>&, const Conv2dGeometry&, const char*);    \
  template void conv_image_forward(const T*, const T*, const T*, ConvShape, T*, T*);                                 \
  template void conv_image_backward(const T*, const T*, const T*, ConvShape, T*, T*, T*, T*, bool);
TORUS_INSTANTIATE(float)
TORUS_INSTANTIATE(double)
#undef TORUS_INSTANTIATE
template Var<float> conv2d(const Var<float>&, const Var<float>&, const Var<float>&, const Conv2dGeometry&);
template Var<double> conv2d(const Var<double>&, const Var<double>&, const Var<double>&, const Conv2dGeometry&);
template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace torus::nn
