// Helpers shared by the op files (not part of the public API): recording an elementwise op and
// adding an elementwise gradient, each split across threads for large tensors.
#pragma once

#include "autodiff/broadcast.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/parallel.hpp"

namespace torus::detail {

template <typename T>
using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
template <typename T>
using Map = Eigen::Map<Array<T>>;
template <typename T>
using CMap = Eigen::Map<const Array<T>>;

// out = f(x) over the flat buffer; f takes and returns Eigen array expressions.
template <typename T, typename F>
void map_unary(Tensor<T>& out, const Tensor<T>& x, F f) {
  out.resize(x.shape());
  parallel_for(x.numel(), 8, [&](int64_t begin, int64_t end) {
    Map<T>(out.data() + begin, end - begin) = f(CMap<T>(x.data() + begin, end - begin));
  });
}

// dx += f(dout, x, out) over the flat buffer (all three share x's shape); dx = f(...) when assign.
template <typename T, typename F>
void add_unary_grad(Tensor<T>& dx, bool assign, const Tensor<T>& dout, const Tensor<T>& x, const Tensor<T>& out, F f) {
  parallel_for(x.numel(), 8, [&](int64_t begin, int64_t end) {
    const int64_t n = end - begin;
    const auto local = f(CMap<T>(dout.data() + begin, n), CMap<T>(x.data() + begin, n), CMap<T>(out.data() + begin, n));
    if (assign) Map<T>(dx.data() + begin, n) = local;
    else Map<T>(dx.data() + begin, n) += local;
  });
}

// Input i's gradient += f(u, v), where u and v broadcast to the output's shape; the tape sums the
// result back to input i's shape when it was broadcast.
template <typename T, typename F>
void add_binary_grad(Backward<T>& g, int i, const Tensor<T>& u, const Tensor<T>& v, F f) {
  if (u.shape() == v.shape() && u.shape() == g.in(i).shape()) {
    bool assign;
    Tensor<T>& dx = g.dx_whole(i, assign);
    parallel_for(u.numel(), 4, [&](int64_t begin, int64_t end) {
      const int64_t n = end - begin;
      const auto local = f(CMap<T>(u.data() + begin, n), CMap<T>(v.data() + begin, n));
      if (assign) Map<T>(dx.data() + begin, n) = local;
      else Map<T>(dx.data() + begin, n) += local;
    });
  } else {
    broadcast_apply(g.dx_broadcast(i), u, v, f, g.op());
  }
}

}  // namespace torus::detail
