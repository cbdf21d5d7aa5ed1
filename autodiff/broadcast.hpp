// NumPy broadcasting for elementwise binary ops: shapes are aligned on the right and a dimension
// of 1 repeats. A BroadcastPlan collapses the output into (outer index, contiguous inner run) so
// the inner run is one Eigen array expression: a Map where the operand varies, a Constant where
// it repeats. The tape uses the same plan backwards to sum gradients to an input's shape.
#pragma once

#include "autodiff/parallel.hpp"
#include "autodiff/tensor.hpp"

#include <array>

namespace torus {

// The broadcast result shape; throws ShapeError naming `op` and both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

struct BroadcastPlan {
  // Collapsed dims of the output, outermost first; the last one is the inner run.
  int rank = 0;
  std::array<int64_t, kMaxRank> dims{};
  std::array<int64_t, kMaxRank> stride_a{};  // 0 where a repeats
  std::array<int64_t, kMaxRank> stride_b{};
  int64_t inner() const { return rank ? dims[rank - 1] : 1; }
  int64_t outer() const;
  // Offsets of the start of inner run `o` in a and b.
  void offsets(int64_t o, int64_t& off_a, int64_t& off_b) const;
};

BroadcastPlan make_broadcast_plan(const Shape& out, const Shape& a, const Shape& b);

// out = f(a, b) elementwise with broadcasting. f takes two Eigen array expressions of equal length
// and returns one. `out` is resized to the broadcast shape.
template <typename T, typename F>
void broadcast_apply(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b, F f, const char* op) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using CMap = Eigen::Map<const Array>;
  out.resize(broadcast_shapes(a.shape(), b.shape(), op));
  if (a.shape() == b.shape()) {
    parallel_for(out.numel(), 4, [&](int64_t begin, int64_t end) {
      const int64_t n = end - begin;
      Eigen::Map<Array>(out.data() + begin, n) = f(CMap(a.data() + begin, n), CMap(b.data() + begin, n));
    });
    return;
  }
  const BroadcastPlan plan = make_broadcast_plan(out.shape(), a.shape(), b.shape());
  const int64_t n = plan.inner();
  const int64_t sa = plan.stride_a[plan.rank - 1];
  const int64_t sb = plan.stride_b[plan.rank - 1];
  parallel_for(plan.outer(), n * 4, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      int64_t oa = 0, ob = 0;
      plan.offsets(o, oa, ob);
      Eigen::Map<Array> dst(out.data() + o * n, n);
      if (sa && sb) {
        dst = f(CMap(a.data() + oa, n), CMap(b.data() + ob, n));
      } else if (sa) {
        dst = f(CMap(a.data() + oa, n), Array::Constant(n, b[ob]));
      } else if (sb) {
        dst = f(Array::Constant(n, a[oa]), CMap(b.data() + ob, n));
      } else {
        dst = f(Array::Constant(n, a[oa]), Array::Constant(n, b[ob]));
      }
    }
  });
}

}  // namespace torus
