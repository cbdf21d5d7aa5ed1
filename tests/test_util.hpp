// Small helpers shared by the tests: seeded random tensors and a gradient-check assertion that
// prints check_gradients' report when it fails.
#pragma once

#include <catch2/catch.hpp>

#include "autodiff/autodiff.hpp"
#include "autodiff/gradcheck.hpp"

#include <random>

namespace torus::testing {

inline Tensor<double> random_tensor(const Shape& s, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<double> t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = u(rng);
  return t;
}

inline Tensor<double> values(const Shape& s, std::vector<double> v) { return Tensor<double>(s, std::move(v)); }

inline void require_gradients(const GradFunction& f, const std::vector<Tensor<double>>& inputs,
                              const GradCheckOptions& opt = {}) {
  const GradCheckResult r = check_gradients(f, inputs, opt);
  INFO(r.report);
  REQUIRE(r.ok);
}

// The analytic gradient of sum(f(x) * seed) with respect to each input (seed of ones by default).
inline std::vector<Tensor<double>> analytic_grads(const GradFunction& f, const std::vector<Tensor<double>>& inputs) {
  Tape<double> tape;
  std::vector<Var<double>> vars;
  for (const auto& x : inputs) vars.push_back(tape.variable(x));
  Var<double> out = f(tape, vars);
  tape.backward(out, Tensor<double>(out.shape(), 1.0));
  std::vector<Tensor<double>> grads;
  for (const auto& v : vars) grads.push_back(v.grad());
  return grads;
}

}  // namespace torus::testing
