// Elementwise binary primitives with broadcasting: add, sub, mul, div, atan2.
// Each backward writes its gradient in the output's shape; where an input was broadcast the tape
// sums it back (Backward::dx_broadcast / sum_to_shape), so no rule here handles broadcasting.
#include "autodiff/ops_common.hpp"

#include <cmath>
#include <type_traits>

namespace torus {
using namespace detail;

namespace {
const OpName kAdd("add");
const OpName kSub("sub");
const OpName kMul("mul");
const OpName kDiv("div");
const OpName kAtan2("atan2");

// Records a binary op and computes out = f(a, b) with broadcasting.
template <typename T, typename F>
Var<T> record_binary(const OpName& op, const Var<T>& a, const Var<T>& b, F f, std::type_identity_t<BackwardFn<T>> backward) {
  Recording<T> rec = a.tape().record(op, {a, b});
  broadcast_apply(rec.value(), a.value(), b.value(), f, op.c_str());
  return rec.backward(backward);
}

// The upstream gradient reduced to input i's shape, times sign.
template <typename T>
void pass_through(Backward<T>& g, int i, T sign) {
  if (!g.needs(i)) return;
  if (g.dout().shape() == g.in(i).shape()) {
    Tensor<T>& dx = g.dx(i);
    parallel_for(dx.numel(), 2, [&](int64_t begin, int64_t end) {
      Map<T>(dx.data() + begin, end - begin) += sign * CMap<T>(g.dout().data() + begin, end - begin);
    });
  } else {
    Tensor<T>& s = g.dx_broadcast(i);
    s.array() = sign * g.dout().array();
  }
}
}  // namespace

template <typename T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  // d(a + b) = da + db
  return record_binary(kAdd, a, b, [](const auto& x, const auto& y) { return x + y; },
                       [](Backward<T>& g) {
                         pass_through(g, 0, T(1));
                         pass_through(g, 1, T(1));
                       });
}

template <typename T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  // d(a - b) = da - db
  return record_binary(kSub, a, b, [](const auto& x, const auto& y) { return x - y; },
                       [](Backward<T>& g) {
                         pass_through(g, 0, T(1));
                         pass_through(g, 1, T(-1));
                       });
}

template <typename T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  // d(a b) = b da + a db
  return record_binary(kMul, a, b, [](const auto& x, const auto& y) { return x * y; },
                       [](Backward<T>& g) {
                         const auto times = [](const auto& x, const auto& y) { return x * y; };
                         if (g.needs(0)) add_binary_grad(g, 0, g.dout(), g.in(1), times);
                         if (g.needs(1)) add_binary_grad(g, 1, g.dout(), g.in(0), times);
                       });
}

template <typename T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  // d(a / b) = da / b - (a / b) db / b
  return record_binary(kDiv, a, b, [](const auto& x, const auto& y) { return x / y; },
                       [](Backward<T>& g) {
                         if (g.needs(0)) add_binary_grad(g, 0, g.dout(), g.in(1), [](const auto& x, const auto& y) { return x / y; });
                         if (g.needs(1)) {
                           Tensor<T>& dout_out = g.saved();  // (out shape) dout * (a / b)
                           dout_out.resize(g.out().shape());
                           dout_out.array() = g.dout().array() * g.out().array();
                           add_binary_grad(g, 1, dout_out, g.in(1), [](const auto& x, const auto& y) { return -x / y; });
                         }
                       });
}

template <typename T>
Var<T> atan2(const Var<T>& y, const Var<T>& x) {
  if (y.shape() != x.shape()) {
    throw ShapeError("atan2: shapes " + y.shape().str() + " and " + x.shape().str() + " must match");
  }
  // d atan2(y, x) = (x dy - y dx) / (x^2 + y^2). At the origin the angle has no derivative; we
  // return 0 for both, so a zero pair neither moves nor produces NaN.
  return record_binary(kAtan2, y, x,
                       [](const auto& a, const auto& b) { return a.binaryExpr(b, [](T u, T v) { return std::atan2(u, v); }); },
                       [](Backward<T>& g) {
                         const Tensor<T>& yv = g.in(0);
                         const Tensor<T>& xv = g.in(1);
                         const T* dout = g.dout().data();
                         for (int i = 0; i < 2; ++i) {
                           if (!g.needs(i)) continue;
                           Tensor<T>& d = g.dx(i);
                           for (int64_t k = 0; k < d.numel(); ++k) {
                             const T r2 = xv[k] * xv[k] + yv[k] * yv[k];
                             if (r2 == T(0)) continue;
                             d[k] += dout[k] * (i == 0 ? xv[k] : -yv[k]) / r2;
                           }
                         }
                       });
}

#define TORUS_INSTANTIATE(T)                                \
  template Var<T> add(const Var<T>&, const Var<T>&);        \
  template Var<T> sub(const Var<T>&, const Var<T>&);        \
  template Var<T> mul(const Var<T>&, const Var<T>&);        \
  template Var<T> div(const Var<T>&, const Var<T>&);        \
  template Var<T> atan2(const Var<T>&, const Var<T>&);
TORUS_INSTANTIATE(float)
TORUS_INSTANTIATE(double)
#undef TORUS_INSTANTIATE

}  // namespace torus
