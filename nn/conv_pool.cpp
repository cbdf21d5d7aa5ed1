#include "nn/conv_pool.hpp"

#include "autodiff/parallel.hpp"
#include "nn/conv_image.hpp"
#include "nn/pool2d.hpp"
#include "nn/pool_rows.hpp"

#include <algorithm>

namespace torus::nn {

namespace {
const OpName kConv2dMaxPool2("conv2d_max_pool2", "nn");

// The pooled output's height and width: (Ho/2, Wo/2).
struct Pooled {
  int64_t H, W;
  int64_t size(const ConvShape& s) const { return s.O * H * W; }  // per image
};

// The op's state.
struct ConvPoolState {
  ConvShape conv;
  Pooled pooled;
};

// Pools one image's convolution output conv (O, Ho, Wo) into out and winners (O, Ho/2, Wo/2).
template <typename T>
void pool_image(const T* conv, const ConvShape& s, const Pooled& p, T* out, T* winners) {
  for (int64_t o = 0; o < s.O; ++o)
    for (int64_t py = 0; py < p.H; ++py) {
      const T* top = conv + o * s.pixels() + 2 * py * s.Wo;
      const int64_t at = (o * p.H + py) * p.W;
      pool_row_2x2(top, top + s.Wo, out + at, winners + at, p.W);
    }
}

// The gradient of pool_image: dconv (O, Ho, Wo), written whole, from dout and winners.
template <typename T>
void unpool_image(const T* dout, const T* winners, const ConvShape& s, const Pooled& p, T* dconv) {
  for (int64_t o = 0; o < s.O; ++o)
    for (int64_t py = 0; py < p.H; ++py) {
      T* top = dconv + o * s.pixels() + 2 * py * s.Wo;
      const int64_t at = (o * p.H + py) * p.W;
      unpool_row_2x2(top, top + s.Wo, dout + at, winners + at, p.W);
    }
}
}  // namespace

template <typename T>
Var<T> conv2d_max_pool2(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dGeometry& g) {
  const ConvShape s = conv_shape(x, weight, bias, g, "conv2d_max_pool2");
  if (s.Ho % 2 != 0 || s.Wo % 2 != 0) return max_pool2d(conv2d(x, weight, bias, g), 2);
  const Pooled p{s.Ho / 2, s.Wo / 2};
  const int chunks = int(std::min<int64_t>(num_threads(), s.N));

  Recording<T> rec = bias.valid() ? x.tape().record(kConv2dMaxPool2, {x, weight, bias})
                                  : x.tape().record(kConv2dMaxPool2, {x, weight});
  rec.set_state(ConvPoolState{s, p});
  rec.value().resize(Shape{s.N, s.O, p.H, p.W});
  T* out = rec.value().data();
  // saved: the winners (N, O, Ho/2, Wo/2), kept for backward, then per chunk cols (patch, pixels)
  // and the convolution output (O, pixels) as scratch
  const int64_t winners_size = s.N * p.size(s);
  const int64_t per_chunk = s.patch() * s.pixels() + s.O * s.pixels();
  Tensor<T>& saved = rec.saved();
  saved.resize(Shape{winners_size + chunks * per_chunk});
  T* winners = saved.data();
  const T* b = bias.valid() ? bias.value().data() : nullptr;
  parallel_chunks(s.N, chunks, [&](int c, int64_t begin, int64_t end) {
    T* cols = winners + winners_size + c * per_chunk;
    T* conv = cols + s.patch() * s.pixels();
    for (int64_t n = begin; n < end; ++n) {
      conv_image_forward(x.value().data() + n * s.image(), weight.value().data(), b, s, cols, conv);
      pool_image(conv, s, p, out + n * p.size(s), winners + n * p.size(s));
    }
  });
  return rec.backward([](Backward<T>& g) {
    const ConvPoolState st = op_state<ConvPoolState>(g);
    const ConvShape s = st.conv;
    const Pooled p = st.pooled;
    const int chunks = int(std::min<int64_t>(num_threads(), s.N));
    const bool need_x = g.needs(0), need_w = g.needs(1), need_b = g.num_inputs() > 2 && g.needs(2);
    // saved: the winners (N, O, Ho/2, Wo/2) from the forward, then the bias gradient per image
    // (N, O), then per chunk cols and dcols (patch, pixels), dconv (O, pixels) and dW (O, patch)
    Tensor<T>& saved = g.saved();
    const int64_t winners_size = s.N * p.size(s), front = winners_size + s.N * s.O;
    const int64_t per_chunk = 2 * s.patch() * s.pixels() + s.O * s.pixels() + s.O * s.patch();
    saved.resize(Shape{front + chunks * per_chunk});  // keeps the winners in front
    const T* winners = saved.data();
    T* db_images = saved.data() + winners_size;
    bool assign_x = false;
    T* dx = need_x ? g.dx_whole(0, assign_x).data() : nullptr;
    parallel_chunks(s.N, chunks, [&](int c, int64_t begin, int64_t end) {
      T* cols = saved.data() + front + c * per_chunk;
      T* dcols = cols + s.patch() * s.pixels();
      T* dconv = dcols + s.patch() * s.pixels();
      T* dW = dconv + s.O * s.pixels();
      std::fill(dW, dW + s.O * s.patch(), T(0));
      for (int64_t n = begin; n < end; ++n) {
        unpool_image(g.dout().data() + n * p.size(s), winners + n * p.size(s), s, p, dconv);
        if (need_b)  // summed over the convolution's pixels, as conv2d does, for identical results
          for (int64_t o = 0; o < s.O; ++o)
            db_images[n * s.O + o] = fixed_order_sum(dconv + o * s.pixels(), s.pixels());
        conv_image_backward(dconv, g.in(0).data() + n * s.image(), g.in(1).data(), s, cols, dcols, need_w ? dW : nullptr,
                            need_x ? dx + n * s.image() : nullptr, assign_x);
      }
    });
    if (need_w) {  // partial sums added in chunk order: repeatable for a given thread count
      Tensor<T>& dw = g.dx(1);
      for (int c = 0; c < chunks; ++c) {
        const T* part = saved.data() + front + c * per_chunk + 2 * s.patch() * s.pixels() + s.O * s.pixels();
        for (int64_t i = 0; i < s.O * s.patch(); ++i) dw[i] += part[i];
      }
    }
    if (need_b) {  // in image order, as conv2d
      T* db = g.dx(2).data();
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t o = 0; o < s.O; ++o) db[o] += db_images[n * s.O + o];
    }
  });
}

template Var<float> conv2d_max_pool2(const Var<float>&, const Var<float>&, const Var<float>&, const Conv2dGeometry&);
template Var<double> conv2d_max_pool2(const Var<double>&, const Var<double>&, const Var<double>&, const Conv2dGeometry&);

}  // namespace torus::nn
