// Broadcast plans, and the one place where a broadcast gradient is summed back to its input.
#include "autodiff/broadcast.hpp"

#include "autodiff/tape.hpp"

namespace torus {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int rank = a.rank() > b.rank() ? a.rank() : b.rank();
  std::array<int64_t, kMaxRank> dims{};
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      throw ShapeError(std::string(op) + ": shapes " + a.str() + " and " + b.str() + " cannot be broadcast");
    }
    dims[i] = da == 1 ? db : da;
  }
  return Shape(std::span<const int64_t>(dims.data(), rank));
}

int64_t BroadcastPlan::outer() const {
  int64_t n = 1;
  for (int i = 0; i + 1 < rank; ++i) n *= dims[i];
  return n;
}

void BroadcastPlan::offsets(int64_t o, int64_t& off_a, int64_t& off_b) const {
  off_a = off_b = 0;
  for (int i = rank - 2; i >= 0; --i) {
    const int64_t idx = o % dims[i];
    o /= dims[i];
    off_a += idx * stride_a[i];
    off_b += idx * stride_b[i];
  }
}

BroadcastPlan make_broadcast_plan(const Shape& out, const Shape& a, const Shape& b) {
  // Strides of each operand expressed over the output's axes (0 along a repeated axis).
  const int rank = out.rank();
  std::array<int64_t, kMaxRank> sa{}, sb{};
  int64_t run_a = 1, run_b = 1;
  for (int i = rank - 1; i >= 0; --i) {
    const int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    sa[i] = da == 1 ? 0 : run_a;
    sb[i] = db == 1 ? 0 : run_b;
    run_a *= da;
    run_b *= db;
  }
  // Merge axis i into axis i+1 when both operands step through them as one contiguous run, so
  // the inner loop is as long as possible. Axes of size 1 are dropped first.
  BroadcastPlan p;
  for (int i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;
    if (p.rank > 0) {
      const int j = p.rank - 1;
      const bool merge_a = p.stride_a[j] == sa[i] * out[i];
      const bool merge_b = p.stride_b[j] == sb[i] * out[i];
      if (merge_a && merge_b) {
        p.dims[j] *= out[i];
        p.stride_a[j] = sa[i];
        p.stride_b[j] = sb[i];
        continue;
      }
    }
    p.dims[p.rank] = out[i];
    p.stride_a[p.rank] = sa[i];
    p.stride_b[p.rank] = sb[i];
    ++p.rank;
  }
  if (p.rank == 0) {  // every axis has size 1: one element
    p.rank = 1;
    p.dims[0] = 1;
    p.stride_a[0] = p.stride_b[0] = 1;
  }
  return p;
}

template <typename T>
void sum_to_shape(const Tensor<T>& g, Tensor<T>& acc) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  if (g.shape() == acc.shape()) {
    acc.array() += g.array();
    return;
  }
  // acc plays operand "a" of a broadcast to g's shape; walk g once, in order, so the sum is
  // repeatable bit for bit whatever the thread count.
  const Shape check = broadcast_shapes(acc.shape(), g.shape(), "sum_to_shape");
  if (check != g.shape()) {
    throw ShapeError("sum_to_shape: gradient of shape " + g.shape().str() + " cannot be reduced to " +
                     acc.shape().str());
  }
  const BroadcastPlan plan = make_broadcast_plan(g.shape(), acc.shape(), g.shape());
  const int64_t n = plan.inner();
  const bool inner_varies = plan.stride_a[plan.rank - 1] != 0;
  for (int64_t o = 0; o < plan.outer(); ++o) {
    int64_t oa = 0, og = 0;
    plan.offsets(o, oa, og);
    Eigen::Map<const Array> src(g.data() + og, n);
    if (inner_varies) {
      Eigen::Map<Array>(acc.data() + oa, n) += src;
    } else {
      acc[oa] += src.sum();
    }
  }
}

template void sum_to_shape(const Tensor<float>&, Tensor<float>&);
template void sum_to_shape(const Tensor<double>&, Tensor<double>&);

}  // namespace torus
