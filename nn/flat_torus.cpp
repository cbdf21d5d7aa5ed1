#include "nn/flat_torus.hpp"

#include "autodiff/ops_common.hpp"
#include "geometry/flat_torus.hpp"

namespace torus::nn {
using namespace torus::detail;

namespace {
const OpName kWrap01("wrap01", "nn");
const OpName kWrappedDiff("wrapped_diff", "nn");
}  // namespace

template <typename T>
Var<T> wrap01(const Var<T>& x) {
  Recording<T> rec = x.tape().record(kWrap01, {x});
  map_unary(rec.value(), x.value(), [](const auto& v) { return v.unaryExpr([](T u) { return geometry::wrap01(u); }); });
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
                  [](const auto& x, const auto& y) { return x.binaryExpr(y, [](T u, T v) { return geometry::wrapped_diff(u, v); }); },
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

}  // namespace torus::nn
