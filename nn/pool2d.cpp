#include "nn/pool2d.hpp"

#include "autodiff/parallel.hpp"

namespace torus::nn {

namespace {
const OpName kMaxPool2d("max_pool2d", "nn");
const OpName kAvgPool2d("avg_pool2d", "nn");

struct PoolShape {
  int64_t planes, H, W, Ho, Wo, k, stride;
};

PoolShape pool_shape(const Shape& s, int64_t kernel, int64_t stride, const char* op) {
  if (s.rank() != 4) throw ShapeError(std::string(op) + ": input must be (N, C, H, W), got " + s.str());
  if (stride == 0) stride = kernel;
  if (kernel < 1 || stride < 1 || kernel > s[2] || kernel > s[3]) {
    throw ShapeError(std::string(op) + ": window " + std::to_string(kernel) + " (stride " + std::to_string(stride) +
                     ") does not fit input " + s.str());
  }
  return {s[0] * s[1], s[2], s[3], (s[2] - kernel) / stride + 1, (s[3] - kernel) / stride + 1, kernel, stride};
}
}  // namespace

template <typename T>
Var<T> max_pool2d(const Var<T>& x, int64_t kernel, int64_t stride) {
  const PoolShape p = pool_shape(x.shape(), kernel, stride, "max_pool2d");
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kMaxPool2d, {x}, [](Backward<T>& g) {
    // each output's gradient goes to the element that won its window (offset i k + j, saved)
    if (!g.needs(0)) return;
    const auto& v = g.node().ints;  // planes, H, W, Ho, Wo, k, stride
    const PoolShape p{v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
    T* dx = g.dx(0).data();
    const T* dout = g.dout().data();
    const T* offset = g.node().saved.data();
    parallel_for(p.planes, p.Ho * p.Wo, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane)
        for (int64_t oy = 0; oy < p.Ho; ++oy)
          for (int64_t ox = 0; ox < p.Wo; ++ox) {
            const int64_t o = (plane * p.Ho + oy) * p.Wo + ox;
            const int64_t off = int64_t(offset[o]), i = off / p.k, j = off % p.k;
            dx[plane * p.H * p.W + (oy * p.stride + i) * p.W + ox * p.stride + j] += dout[o];
          }
    });
  });
  node.ints.assign({p.planes, p.H, p.W, p.Ho, p.Wo, p.k, p.stride});
  const Shape& s = x.shape();
  node.value.resize(Shape{s[0], s[1], p.Ho, p.Wo});
  node.saved.resize(Shape{p.planes * p.Ho * p.Wo});
  const T* src = x.value().data();
  T* out = node.value.data();
  T* offset = node.saved.data();
  parallel_for(p.planes, p.H * p.W, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane)
      for (int64_t oy = 0; oy < p.Ho; ++oy)
        for (int64_t ox = 0; ox < p.Wo; ++ox) {
          const T* window = src + plane * p.H * p.W + oy * p.stride * p.W + ox * p.stride;
          T best = window[0];
          int64_t arg = 0;
          for (int64_t i = 0; i < p.k; ++i)
            for (int64_t j = 0; j < p.k; ++j) {
              // branch-free: pooled data is noise to a branch predictor
              const T v = window[i * p.W + j];
              const bool better = v > best;
              best = better ? v : best;
              arg = better ? i * p.k + j : arg;
            }
          const int64_t o = (plane * p.Ho + oy) * p.Wo + ox;
          out[o] = best;
          offset[o] = T(arg);  // first maximum on ties: only a strictly larger value replaces it
        }
  });
  return tape.last();
}

template <typename T>
Var<T> avg_pool2d(const Var<T>& x, int64_t kernel, int64_t stride) {
  const PoolShape p = pool_shape(x.shape(), kernel, stride, "avg_pool2d");
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kAvgPool2d, {x}, [](Backward<T>& g) {
    // every element of a window receives dout / k^2
    if (!g.needs(0)) return;
    const auto& v = g.node().ints;  // planes, H, W, Ho, Wo, k, stride
    const PoolShape p{v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
    Tensor<T>& dx = g.dx(0);
    const T scale = T(1) / T(p.k * p.k);
    for (int64_t plane = 0; plane < p.planes; ++plane)
      for (int64_t oy = 0; oy < p.Ho; ++oy)
        for (int64_t ox = 0; ox < p.Wo; ++ox) {
          const T d = g.dout()[(plane * p.Ho + oy) * p.Wo + ox] * scale;
          for (int64_t i = 0; i < p.k; ++i)
            for (int64_t j = 0; j < p.k; ++j) dx[plane * p.H * p.W + (oy * p.stride + i) * p.W + ox * p.stride + j] += d;
        }
  });
  node.ints.assign({p.planes, p.H, p.W, p.Ho, p.Wo, p.k, p.stride});
  const Shape& s = x.shape();
  node.value.resize(Shape{s[0], s[1], p.Ho, p.Wo});
  const T* src = x.value().data();
  const T scale = T(1) / T(p.k * p.k);
  for (int64_t plane = 0; plane < p.planes; ++plane)
    for (int64_t oy = 0; oy < p.Ho; ++oy)
      for (int64_t ox = 0; ox < p.Wo; ++ox) {
        T total = 0;
        for (int64_t i = 0; i < p.k; ++i)
          for (int64_t j = 0; j < p.k; ++j) total += src[plane * p.H * p.W + (oy * p.stride + i) * p.W + ox * p.stride + j];
        node.value[(plane * p.Ho + oy) * p.Wo + ox] = total * scale;
      }
  return tape.last();
}

template Var<float> max_pool2d(const Var<float>&, int64_t, int64_t);
template Var<double> max_pool2d(const Var<double>&, int64_t, int64_t);
template Var<float> avg_pool2d(const Var<float>&, int64_t, int64_t);
template Var<double> avg_pool2d(const Var<double>&, int64_t, int64_t);

}  // namespace torus::nn
