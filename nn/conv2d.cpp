#include "nn/conv2d.hpp"

#include "autodiff/parallel.hpp"
#include "nn/conv_image.hpp"

#include <algorithm>

namespace torus::nn {

namespace {
const OpName kConv2d("conv2d", "nn");

}  // namespace

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

template Var<float> conv2d(const Var<float>&, const Var<float>&, const Var<float>&, const Conv2dGeometry&);
template Var<double> conv2d(const Var<double>&, const Var<double>&, const Var<double>&, const Conv2dGeometry&);

}  // namespace torus::nn
