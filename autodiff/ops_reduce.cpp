// Reductions: sum (all, or along an axis), max along an axis, logsumexp and log_softmax.
// An axis reduction views x as (outer, n, inner) with n the reduced axis; the output is
// (outer, inner). Sums run in a fixed order so results repeat bit for bit.
#include "autodiff/ops_common.hpp"

#include <cmath>
#include <limits>

namespace torus {
using namespace detail;

namespace {
const OpName kSumAll("sum");
const OpName kSumAxis("sum_axis");
const OpName kMaxAxis("max_axis");
const OpName kLogSumExp("logsumexp");
const OpName kLogSoftmax("log_softmax");

struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};

AxisView axis_view(const Shape& s, int axis) {
  AxisView v;
  for (int i = 0; i < axis; ++i) v.outer *= s[i];
  v.n = s[axis];
  for (int i = axis + 1; i < s.rank(); ++i) v.inner *= s[i];
  return v;
}

Shape reduced_shape(const Shape& s, int axis, bool keepdim) {
  std::array<int64_t, kMaxRank> dims{};
  int rank = 0;
  for (int i = 0; i < s.rank(); ++i) {
    if (i != axis) dims[rank++] = s[i];
    else if (keepdim) dims[rank++] = 1;
  }
  return Shape(std::span<const int64_t>(dims.data(), rank));
}

// Records a reduction over `axis`, storing the axis and the view sizes in the node.
template <typename T>
Node<T>& record_axis_op(const OpName& op, const Var<T>& x, int axis, bool keepdim, BackwardFn<T> backward) {
  const int a = x.shape().normalize_axis(axis, op.c_str());
  const AxisView v = axis_view(x.shape(), a);
  Node<T>& node = x.tape().record(op, {x}, backward);
  node.ints.assign({v.outer, v.n, v.inner});
  node.value.resize(reduced_shape(x.shape(), a, keepdim));
  return node;
}

AxisView stored_view(const std::vector<int64_t>& ints) { return {ints[0], ints[1], ints[2]}; }

// Row maximum, or -inf for an empty or all -inf row (NaNs are ignored).
template <typename T>
T row_max(const T* x, int64_t n, int64_t stride) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t k = 0; k < n; ++k) m = x[k * stride] > m ? x[k * stride] : m;
  return m;
}
}  // namespace

template <typename T>
Var<T> sum(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kSumAll, {x}, [](Backward<T>& g) {
    // d(sum x)/dx_i = 1
    if (g.needs(0)) g.dx(0).array() += g.dout()[0];
  });
  node.value.resize(Shape{});
  node.value[0] = x.value().array().sum();
  return tape.last();
}

template <typename T>
Var<T> sum(const Var<T>& x, int axis, bool keepdim) {
  Node<T>& node = record_axis_op<T>(kSumAxis, x, axis, keepdim, [](Backward<T>& g) {
    // every element of a reduced row receives that row's upstream gradient
    if (!g.needs(0)) return;
    const AxisView v = stored_view(g.node().ints);
    Tensor<T>& dx = g.dx(0);
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t k = 0; k < v.n; ++k)
        Map<T>(dx.data() + (o * v.n + k) * v.inner, v.inner) += CMap<T>(g.dout().data() + o * v.inner, v.inner);
  });
  const AxisView v = stored_view(node.ints);
  const T* src = x.value().data();
  Map<T> out(node.value.data(), v.outer * v.inner);
  out.setZero();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.n; ++k)
      Map<T>(node.value.data() + o * v.inner, v.inner) += CMap<T>(src + (o * v.n + k) * v.inner, v.inner);
  return x.tape().last();
}

template <typename T>
Var<T> max(const Var<T>& x, int axis, bool keepdim) {
  Node<T>& node = record_axis_op<T>(kMaxAxis, x, axis, keepdim, [](Backward<T>& g) {
    // the gradient goes to the first maximum of each row (saved as an index)
    if (!g.needs(0)) return;
    const AxisView v = stored_view(g.node().ints);
    Tensor<T>& dx = g.dx(0);
    const Tensor<T>& arg = g.node().saved;
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        const int64_t k = static_cast<int64_t>(arg[o * v.inner + i]);
        dx[(o * v.n + k) * v.inner + i] += g.dout()[o * v.inner + i];
      }
  });
  const AxisView v = stored_view(node.ints);
  if (v.n == 0) throw ShapeError("max: cannot reduce an empty axis of shape " + x.shape().str());
  node.saved.resize(Shape{v.outer * v.inner});
  const T* src = x.value().data();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      const T* row = src + o * v.n * v.inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < v.n; ++k)
        if (row[k * v.inner] > row[best * v.inner]) best = k;
      node.value[o * v.inner + i] = row[best * v.inner];
      node.saved[o * v.inner + i] = T(best);  // exact for any axis length below 2^24 (float)
    }
  return x.tape().last();
}

template <typename T>
Var<T> logsumexp(const Var<T>& x, int axis, bool keepdim) {
  Node<T>& node = record_axis_op<T>(kLogSumExp, x, axis, keepdim, [](Backward<T>& g) {
    // d lse / dx_k = softmax_k = exp(x_k - lse); 0 for a row of all -inf
    if (!g.needs(0)) return;
    const AxisView v = stored_view(g.node().ints);
    const T* xs = g.in(0).data();
    Tensor<T>& dx = g.dx(0);
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        const T m = g.node().saved[2 * (o * v.inner + i)];
        const T log_s = g.node().saved[2 * (o * v.inner + i) + 1];
        if (std::isinf(m) && m < 0) continue;
        const T d = g.dout()[o * v.inner + i];
        for (int64_t k = 0; k < v.n; ++k) {
          const int64_t at = (o * v.n + k) * v.inner + i;
          dx[at] += d * std::exp((xs[at] - m) - log_s);  // not x - lse: lse = m + log s rounds for |m| ~ 1e30
        }
      }
  });
  const AxisView v = stored_view(node.ints);
  node.saved.resize(Shape{2 * v.outer * v.inner});  // (rows, 2): row maximum m and log sum exp(x - m)
  const T* src = x.value().data();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      const T* row = src + o * v.n * v.inner + i;
      const T m = row_max(row, v.n, v.inner);
      T log_s = 0;
      if (!(std::isinf(m) && m < 0)) {
        T s = 0;  // subtracting the maximum keeps every exp in (0, 1]
        for (int64_t k = 0; k < v.n; ++k) s += std::exp(row[k * v.inner] - m);
        log_s = std::log(s);
      }
      node.saved[2 * (o * v.inner + i)] = m;
      node.saved[2 * (o * v.inner + i) + 1] = log_s;
      node.value[o * v.inner + i] = m + log_s;  // -inf when the whole row is -inf
    }
  return x.tape().last();
}

template <typename T>
Var<T> log_softmax(const Var<T>& x, int axis) {
  const int a = x.shape().normalize_axis(axis, "log_softmax");
  const AxisView v = axis_view(x.shape(), a);
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kLogSoftmax, {x}, [](Backward<T>& g) {
    // y = x - lse(x):  dx_k = dy_k - softmax_k * sum_j dy_j, with softmax_k = exp(y_k)
    if (!g.needs(0)) return;
    const AxisView v = stored_view(g.node().ints);
    const T* y = g.out().data();
    const T* dy = g.dout().data();
    Tensor<T>& dx = g.dx(0);
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        const int64_t base = o * v.n * v.inner + i;
        if (g.node().saved[o * v.inner + i] != T(0)) continue;  // all -inf row: no gradient
        T total = 0;
        for (int64_t k = 0; k < v.n; ++k) total += dy[base + k * v.inner];
        for (int64_t k = 0; k < v.n; ++k) {
          const int64_t at = base + k * v.inner;
          dx[at] += dy[at] - std::exp(y[at]) * total;
        }
      }
  });
  node.ints.assign({v.outer, v.n, v.inner});
  node.value.resize(x.shape());
  node.saved.resize(Shape{v.outer * v.inner});  // 1 marks a row that is entirely -inf
  const T* src = x.value().data();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      const int64_t base = o * v.n * v.inner + i;
      const T m = row_max(src + base, v.n, v.inner);
      const bool dead = std::isinf(m) && m < 0;
      node.saved[o * v.inner + i] = dead ? T(1) : T(0);
      T log_s = 0;
      if (!dead) {
        T s = 0;
        for (int64_t k = 0; k < v.n; ++k) s += std::exp(src[base + k * v.inner] - m);
        log_s = std::log(s);
      }
      for (int64_t k = 0; k < v.n; ++k) {
        const int64_t at = base + k * v.inner;
        // (x - m) - log s rather than x - lse: lse = m + log s rounds away log s when |m| ~ 1e30
        node.value[at] = dead ? -std::numeric_limits<T>::infinity() : (src[at] - m) - log_s;
      }
    }
  return tape.last();
}

#define TORUS_INSTANTIATE(T)                                     \
  template Var<T> sum(const Var<T>&);                            \
  template Var<T> sum(const Var<T>&, int, bool);                 \
  template Var<T> max(const Var<T>&, int, bool);                 \
  template Var<T> logsumexp(const Var<T>&, int, bool);           \
  template Var<T> log_softmax(const Var<T>&, int);
TORUS_INSTANTIATE(float)
TORUS_INSTANTIATE(double)
#undef TORUS_INSTANTIATE

}  // namespace torus
