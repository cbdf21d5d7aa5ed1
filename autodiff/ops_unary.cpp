// Elementwise unary primitives. Each op is a forward expression and, right below it, the local
// derivative that multiplies the upstream gradient (dout, x = input, y = output).
// Piecewise ops state the subgradient they pick at the kink; ops.hpp lists them all.
#include "autodiff/ops_common.hpp"

#include <cmath>
#include <numbers>
#include <type_traits>

namespace torus {
using namespace detail;

namespace {
const OpName kAffine("affine");
const OpName kExp("exp");
const OpName kLog("log");
const OpName kSqrt("sqrt");
const OpName kPow("pow");
const OpName kAbs("abs");
const OpName kSin("sin");
const OpName kCos("cos");
const OpName kTanh("tanh");
const OpName kSigmoid("sigmoid");
const OpName kRelu("relu");
const OpName kLeakyRelu("leaky_relu");
const OpName kSoftplus("softplus");
const OpName kClamp("clamp");
const OpName kGelu("gelu");

// The op's parameters, stored in its node for the backward.
struct AffineState {
  double a, b;  // y = a x + b
};
struct PowState {
  double p;  // y = x^p
};
struct LeakyReluState {
  double slope;  // y = slope x for x <= 0
};
struct ClampState {
  double lo, hi;  // y = min(max(x, lo), hi)
};

// Records y = forward(x) elementwise, then its backward.
template <typename T, typename F>
Var<T> record_unary(const OpName& op, const Var<T>& x, F forward, std::type_identity_t<BackwardFn<T>> backward) {
  Recording<T> rec = x.tape().record(op, {x});
  map_unary(rec.value(), x.value(), forward);
  return rec.backward(backward);
}

// The same for an op with parameters, stored first so the backward can read them.
template <typename T, typename S, typename F>
Var<T> record_unary(const OpName& op, const Var<T>& x, const S& state, F forward,
                    std::type_identity_t<BackwardFn<T>> backward) {
  Recording<T> rec = x.tape().record(op, {x});
  rec.set_state(state);
  map_unary(rec.value(), x.value(), forward);
  return rec.backward(backward);
}

// dx += local(dout, x, y), elementwise.
template <typename T, typename F>
void unary_grad(Backward<T>& g, F local) {
  if (!g.needs(0)) return;
  bool assign;
  Tensor<T>& dx = g.dx_whole(0, assign);
  add_unary_grad(dx, assign, g.dout(), g.in(0), g.out(), local);
}

template <typename T>
T stable_sigmoid(T v) {
  // Never evaluates exp of a large positive number, so it saturates to exactly 0 or 1.
  if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
  const T e = std::exp(v);
  return e / (T(1) + e);
}
}  // namespace

template <typename T>
Var<T> affine(const Var<T>& x, double a, double b) {
  return record_unary(kAffine, x, AffineState{a, b}, [a, b](const auto& v) { return T(a) * v + T(b); },
                      [](Backward<T>& g) {
                        const T a = T(op_state<AffineState>(g).a);
                        unary_grad(g, [a](const auto& d, const auto&, const auto&) { return a * d; });  // d(ax+b) = a
                      });
}

template <typename T>
Var<T> exp(const Var<T>& x) {
  return record_unary(kExp, x, [](const auto& v) { return v.exp(); }, [](Backward<T>& g) {
    unary_grad(g, [](const auto& d, const auto&, const auto& y) { return d * y; });  // e^x' = e^x
  });
}

template <typename T>
Var<T> log(const Var<T>& x) {
  return record_unary(kLog, x, [](const auto& v) { return v.log(); }, [](Backward<T>& g) {
    unary_grad(g, [](const auto& d, const auto& x, const auto&) { return d / x; });  // log' = 1/x
  });
}

template <typename T>
Var<T> sqrt(const Var<T>& x) {
  return record_unary(kSqrt, x, [](const auto& v) { return v.sqrt(); }, [](Backward<T>& g) {
    unary_grad(g, [](const auto& d, const auto&, const auto& y) { return T(0.5) * d / y; });  // sqrt' = 1/(2 sqrt x)
  });
}

template <typename T>
Var<T> pow(const Var<T>& x, double p) {
  return record_unary(kPow, x, PowState{p}, [p](const auto& v) { return v.pow(T(p)); },
                      [](Backward<T>& g) {
                        const T p = T(op_state<PowState>(g).p);
                        if (p == T(0)) {  // x^0 = 1 everywhere, even where x^-1 is infinite
                          if (g.needs(0)) g.dx(0);  // reached, with gradient exactly 0
                          return;
                        }
                        // (x^p)' = p x^(p-1)
                        unary_grad(g, [p](const auto& d, const auto& x, const auto&) { return p * d * x.pow(p - T(1)); });
                      });
}

template <typename T>
Var<T> abs(const Var<T>& x) {
  return record_unary(kAbs, x, [](const auto& v) { return v.abs(); }, [](Backward<T>& g) {
    unary_grad(g, [](const auto& d, const auto& x, const auto&) { return d * x.sign(); });  // sign(0) = 0
  });
}

template <typename T>
Var<T> sin(const Var<T>& x) {
  return record_unary(kSin, x, [](const auto& v) { return v.sin(); }, [](Backward<T>& g) {
    unary_grad(g, [](const auto& d, const auto& x, const auto&) { return d * x.cos(); });
  });
}

template <typename T>
Var<T> cos(const Var<T>& x) {
  return record_unary(kCos, x, [](const auto& v) { return v.cos(); }, [](Backward<T>& g) {
    unary_grad(g, [](const auto& d, const auto& x, const auto&) { return -d * x.sin(); });
  });
}

template <typename T>
Var<T> tanh(const Var<T>& x) {
  return record_unary(kTanh, x, [](const auto& v) { return v.tanh(); }, [](Backward<T>& g) {
    unary_grad(g, [](const auto& d, const auto&, const auto& y) { return d * (T(1) - y * y); });  // tanh' = 1 - tanh^2
  });
}

template <typename T>
Var<T> sigmoid(const Var<T>& x) {
  return record_unary(kSigmoid, x, [](const auto& v) { return v.unaryExpr([](T u) { return stable_sigmoid(u); }); },
                      [](Backward<T>& g) {
                        // s' = s (1 - s); exactly 0 once s saturates to 0 or 1
                        unary_grad(g, [](const auto& d, const auto&, const auto& y) { return d * y * (T(1) - y); });
                      });
}

template <typename T>
Var<T> relu(const Var<T>& x) {
  return record_unary(kRelu, x, [](const auto& v) { return v.max(T(0)); }, [](Backward<T>& g) {
    unary_grad(g, [](const auto& d, const auto& x, const auto&) { return d * (x > T(0)).template cast<T>(); });
  });
}

template <typename T>
Var<T> leaky_relu(const Var<T>& x, double slope) {
  const T s = T(slope);
  return record_unary(kLeakyRelu, x, LeakyReluState{slope},
                      [s](const auto& v) { return v.unaryExpr([s](T u) { return u > T(0) ? u : s * u; }); },
                      [](Backward<T>& g) {
                        const T s = T(op_state<LeakyReluState>(g).slope);
                        // slope at 0 and below: the kink takes the left derivative
                        unary_grad(g, [s](const auto& d, const auto& x, const auto&) {
                          return d * x.unaryExpr([s](T u) { return u > T(0) ? T(1) : s; });
                        });
                      });
}

template <typename T>
Var<T> softplus(const Var<T>& x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
  return record_unary(kSoftplus, x,
                      [](const auto& v) {
                        return v.unaryExpr([](T u) { return std::max(u, T(0)) + std::log1p(std::exp(-std::abs(u))); });
                      },
                      [](Backward<T>& g) {
                        // softplus' = sigmoid
                        unary_grad(g, [](const auto& d, const auto& x, const auto&) {
                          return d * x.unaryExpr([](T u) { return stable_sigmoid(u); });
                        });
                      });
}

template <typename T>
Var<T> clamp(const Var<T>& x, double lo, double hi) {
  if (!(lo <= hi)) throw std::invalid_argument("clamp: lower bound " + std::to_string(lo) + " exceeds upper bound " + std::to_string(hi));
  const T l = T(lo), h = T(hi);
  return record_unary(kClamp, x, ClampState{lo, hi}, [l, h](const auto& v) { return v.max(l).min(h); },
                      [](Backward<T>& g) {
                        const ClampState c = op_state<ClampState>(g);
                        const T l = T(c.lo), h = T(c.hi);
                        // 1 on [lo, hi] including both ends, 0 outside
                        unary_grad(g, [l, h](const auto& d, const auto& x, const auto&) {
                          return d * x.unaryExpr([l, h](T u) { return (u >= l && u <= h) ? T(1) : T(0); });
                        });
                      });
}

template <typename T>
Var<T> gelu(const Var<T>& x) {
  // x Phi(x), with the exact normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 (PyTorch's default)
  return record_unary(kGelu, x,
                      [](const auto& v) { return v.unaryExpr([](T u) { return T(0.5) * u * (T(1) + std::erf(u * T(1 / std::numbers::sqrt2))); }); },
                      [](Backward<T>& g) {
                        // (x Phi)' = Phi(x) + x phi(x), phi the normal density
                        unary_grad(g, [](const auto& d, const auto& x, const auto&) {
                          return d * x.unaryExpr([](T u) {
                            const T cdf = T(0.5) * (T(1) + std::erf(u * T(1 / std::numbers::sqrt2)));
                            const T pdf = std::exp(T(-0.5) * u * u) * T(0.3989422804014327);  // 1 / sqrt(2 pi)
                            return cdf + u * pdf;
                          });
                        });
                      });
}

#define TORUS_INSTANTIATE(T)                                  \
  template Var<T> affine(const Var<T>&, double, double);      \
  template Var<T> exp(const Var<T>&);                         \
  template Var<T> log(const Var<T>&);                         \
  template Var<T> sqrt(const Var<T>&);                        \
  template Var<T> pow(const Var<T>&, double);                 \
  template Var<T> abs(const Var<T>&);                         \
  template Var<T> sin(const Var<T>&);                         \
  template Var<T> cos(const Var<T>&);                         \
  template Var<T> tanh(const Var<T>&);                        \
  template Var<T> sigmoid(const Var<T>&);                     \
  template Var<T> relu(const Var<T>&);                        \
  template Var<T> leaky_relu(const Var<T>&, double);          \
  template Var<T> softplus(const Var<T>&);                    \
  template Var<T> clamp(const Var<T>&, double, double);        \
  template Var<T> gelu(const Var<T>&);
TORUS_INSTANTIATE(float)
TORUS_INSTANTIATE(double)
#undef TORUS_INSTANTIATE

}  // namespace torus
