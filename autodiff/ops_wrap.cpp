// The two wraparound primitives of the torus work (method.md 3.3).
// Both subtract an integer that is piecewise constant in the input, so wherever they are
// differentiable the derivative is exactly that of the identity (or of a - b). At the jumps the
// value changes by a whole turn while the point on the circle does not move at all, so we keep
// the same derivative there too: the gradient describes motion along the circle, which is smooth.
#include "autodiff/ops_common.hpp"

#include <type_traits>

namespace torus {
using namespace detail;

namespace {
const OpName kWrap01("wrap01");
const OpName kWrappedDiff("wrapped_diff");
}  // namespace

template <typename T>
Var<T> wrap01(const Var<T>& x) {
  Recording<T> rec = x.tape().record(kWrap01, {x});
  map_unary(rec.value(), x.value(), [](const auto& v) {
    // x - floor(x) can round up to exactly 1 for tiny negative x in floating point; fold it to 0
    // so the result is always in [0, 1).
    return (v - v.floor()).unaryExpr([](T u) { return u >= T(1) ? T(0) : u; });
  });
  return rec.backward([](Backward<T>& g) {
    // d(x - floor x)/dx = 1
    if (!g.needs(0)) return;
    bool assign;
    Tensor<T>& dx = g.dx_whole(0, assign);
    add_unary_grad(dx, assign, g.dout(), g.in(0), g.out(), [](const auto& d, const auto&, const auto&) { return d; });
  });
}

template <typename T>
Var<T> wrapped_diff(const Var<T>& a, const Var<T>& b) {
  Recording<T> rec = a.tape().record(kWrappedDiff, {a, b});
  broadcast_apply(rec.value(), a.value(), b.value(),
                  [](const auto& x, const auto& y) {
                    return (x - y).unaryExpr([](T d) {
                      // d - floor(d + 1/2) lands in [-1/2, 1/2]; fold a rounded +1/2 to -1/2 so the
                      // interval is half-open like int8_t(uint8_t(qa - qb)).
                      const T w = d - std::floor(d + T(0.5));
                      return w >= T(0.5) ? w - T(1) : w;
                    });
                  },
                  kWrappedDiff.c_str());
  return rec.backward([](Backward<T>& g) {
    // d/da = +1, d/db = -1; broadcast inputs are summed back by the tape
    for (int i = 0; i < 2; ++i) {
      if (!g.needs(i)) continue;
      const T sign = i == 0 ? T(1) : T(-1);
      if (g.dout().shape() == g.in(i).shape()) {
        g.dx(i).array() += sign * g.dout().array();
      } else {
        g.dx_broadcast(i).array() = sign * g.dout().array();
      }
    }
  });
}

template Var<float> wrap01(const Var<float>&);
template Var<double> wrap01(const Var<double>&);
template Var<float> wrapped_diff(const Var<float>&, const Var<float>&);
template Var<double> wrapped_diff(const Var<double>&, const Var<double>&);

}  // namespace torus
