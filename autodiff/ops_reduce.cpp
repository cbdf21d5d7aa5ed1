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

// The op's state: x viewed as (outer, n, inner) with n the reduced axis.
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

// Starts recording a reduction over `axis`: stores the (outer, n, inner) view as the op's state
// and sizes the output.
template <typename T>
Recording<T> record_axis_op(const OpName& op, const Var<T>& x, int axis, bool keepdim, AxisView& v) {
  const int a = x.shape().normalize_axis(axis, op.c_str());
  v = axis_view(x.shape(), a);
  Recording<T> rec = x.tape().record(op, {x});
  rec.set_state(v);
  rec.value().resize(reduced_shape(x.shape(), a, keepdim));
  return rec;
}

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
  Recording<T> rec = x.tape().record(kSumAll, {x});
  rec.value().resize(Shape{});
  rec.value()[0] = x.value().array().sum();
  return rec.backward([](Backward<T>& g) {
    // d(sum x)/dx_i = 1
    if (g.needs(0)) g.dx(0).array() += g.dout()[0];
  });
}

template <typename T>
Var<T> sum(const Var<T>& x, int axis, bool keepdim) {
  AxisView v;
  Recording<T> rec = record_axis_op<T>(kSumAxis, x, axis, keepdim, v);
  const T* src = x.value().data();
  T* out = rec.value().data();  // (outer, inner)
  Map<T>(out, v.outer * v.inner).setZero();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.n; ++k)
      Map<T>(out + o * v.inner, v.inner) += CMap<T>(src + (o * v.n + k) * v.inner, v.inner);
  return rec.backward([](Backward<T>& g) {
    // every element of a reduced row receives that row's upstream gradient
    if (!g.needs(0)) return;
    const AxisView v = op_state<AxisView>(g);
    Tensor<T>& dx = g.dx(0);
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t k = 0; k < v.n; ++k)
        Map<T>(dx.data() + (o * v.n + k) * v.inner, v.inner) += CMap<T>(g.dout().data() + o * v.inner, v.inner);
  });
}

template <typename T>
Var<T> max(const Var<T>& x, int axis, bool keepdim) {
  {
    const int a = x.shape().normalize_axis(axis, kMaxAxis.c_str());
    if (x.shape()[a] == 0) throw ShapeError("max: cannot reduce an empty axis of shape " + x.shape().str());
  }
  AxisView v;
  Recording<T> rec = record_axis_op<T>(kMaxAxis, x, axis, keepdim, v);
  Tensor<T>& argmax = rec.saved();  // (outer, inner) index of each row's first maximum, as T
  argmax.resize(Shape{v.outer * v.inner});
  const T* src = x.value().data();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      const T* row = src + o * v.n * v.inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < v.n; ++k)
        if (row[k * v.inner] > row[best * v.inner]) best = k;
      rec.value()[o * v.inner + i] = row[best * v.inner];
      argmax[o * v.inner + i] = T(best);  // exact for any axis length below 2^24 (float)
    }
  return rec.backward([](Backward<T>& g) {
    // the gradient goes to the first maximum of each row
    if (!g.needs(0)) return;
    const AxisView v = op_state<AxisView>(g);
    Tensor<T>& dx = g.dx(0);
    const Tensor<T>& argmax = g.saved();  // (outer, inner)
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        const int64_t k = static_cast<int64_t>(argmax[o * v.inner + i]);
        dx[(o * v.n + k) * v.inner + i] += g.dout()[o * v.inner + i];
      }
  });
}

template <typename T>
Var<T> logsumexp(const Var<T>& x, int axis, bool keepdim) {
  AxisView v;
  Recording<T> rec = record_axis_op<T>(kLogSumExp, x, axis, keepdim, v);
  Tensor<T>& stats = rec.saved();  // (outer, inner, 2): row maximum m, then log sum exp(x - m)
  stats.resize(Shape{2 * v.outer * v.inner});
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
      stats[2 * (o * v.inner + i)] = m;
      stats[2 * (o * v.inner + i) + 1] = log_s;
      rec.value()[o * v.inner + i] = m + log_s;  // -inf when the whole row is -inf
    }
  return rec.backward([](Backward<T>& g) {
    // d lse / dx_k = softmax_k = exp(x_k - lse); 0 for a row of all -inf
    if (!g.needs(0)) return;
    const AxisView v = op_state<AxisView>(g);
    const T* xs = g.in(0).data();
    const Tensor<T>& stats = g.saved();  // (outer, inner, 2): m, log s
    Tensor<T>& dx = g.dx(0);
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        const T m = stats[2 * (o * v.inner + i)];
        const T log_s = stats[2 * (o * v.inner + i) + 1];
        if (std::isinf(m) && m < 0) continue;
        const T d = g.dout()[o * v.inner + i];
        for (int64_t k = 0; k < v.n; ++k) {
          const int64_t at = (o * v.n + k) * v.inner + i;
          dx[at] += d * std::exp((xs[at] - m) - log_s);  // not x - lse: lse = m + log s rounds for |m| ~ 1e30
        }
      }
  });
}

template <typename T>
Var<T> log_softmax(const Var<T>& x, int axis) {
  const int a = x.shape().normalize_axis(axis, "log_softmax");
  const AxisView v = axis_view(x.shape(), a);
  Recording<T> rec = x.tape().record(kLogSoftmax, {x});
  rec.set_state(v);
  rec.value().resize(x.shape());
  Tensor<T>& dead_rows = rec.saved();  // (outer, inner): 1 marks a row that is entirely -inf
  dead_rows.resize(Shape{v.outer * v.inner});
  const T* src = x.value().data();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      const int64_t base = o * v.n * v.inner + i;
      const T m = row_max(src + base, v.n, v.inner);
      const bool dead = std::isinf(m) && m < 0;
      dead_rows[o * v.inner + i] = dead ? T(1) : T(0);
      T log_s = 0;
      if (!dead) {
        T s = 0;
        for (int64_t k = 0; k < v.n; ++k) s += std::exp(src[base + k * v.inner] - m);
        log_s = std::log(s);
      }
      for (int64_t k = 0; k < v.n; ++k) {
        const int64_t at = base + k * v.inner;
        // (x - m) - log s rather than x - lse: lse = m + log s rounds away log s when |m| ~ 1e30
        rec.value()[at] = dead ? -std::numeric_limits<T>::infinity() : (src[at] - m) - log_s;
      }
    }
  return rec.backward([](Backward<T>& g) {
    // y = x - lse(x):  dx_k = dy_k - softmax_k * sum_j dy_j, with softmax_k = exp(y_k)
    if (!g.needs(0)) return;
    const AxisView v = op_state<AxisView>(g);
    const T* y = g.out().data();
    const T* dy = g.dout().data();
    const Tensor<T>& dead_rows = g.saved();  // (outer, inner)
    Tensor<T>& dx = g.dx(0);
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        const int64_t base = o * v.n * v.inner + i;
        if (dead_rows[o * v.inner + i] != T(0)) continue;  // all -inf row: no gradient
        T total = 0;
        for (int64_t k = 0; k < v.n; ++k) total += dy[base + k * v.inner];
        for (int64_t k = 0; k < v.n; ++k) {
          const int64_t at = base + k * v.inner;
          dx[at] += dy[at] - std::exp(y[at]) * total;
        }
      }
  });
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
