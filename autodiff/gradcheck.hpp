// check_gradients: the engine's gradient against central finite differences, in double.
// Small problems compare the full Jacobian (one backward pass per output element with a one-hot
// seed, one pair of forward passes per input element); large ones compare random projections
// <u, J v>. An entry passes when |analytic - numeric| <= atol + rtol * |numeric|. On failure the
// report names the input, the indices, both values and the largest error seen.
// Every op recorded while checking is added to gradcheck_coverage(), which the registry test
// compares with OpName::registry() so no primitive goes without a check.
#pragma once

#include "autodiff/tape.hpp"

#include <cmath>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace torus {

struct GradCheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  int64_t full_jacobian_limit = 4096;  // inputs x outputs up to this: full Jacobian
  int projections = 6;                 // otherwise: this many random <u, J v>
  uint64_t seed = 1234;
};

struct GradCheckResult {
  bool ok = true;
  double max_error = 0;  // largest |analytic - numeric|
  std::string report;    // what failed, or a one-line summary
  explicit operator bool() const { return ok; }
};

using GradFunction = std::function<Var<double>(Tape<double>&, const std::vector<Var<double>>&)>;

inline std::set<std::string>& gradcheck_coverage() {
  static std::set<std::string> ops;
  return ops;
}

namespace detail {

inline Tensor<double> evaluate(const GradFunction& f, const std::vector<Tensor<double>>& inputs) {
  Tape<double> tape;
  std::vector<Var<double>> vars;
  for (const auto& x : inputs) vars.push_back(tape.constant(x));
  NoGradGuard<double> no_grad(tape);
  return f(tape, vars).value();
}

// Runs f on variables and backward with `seed`; returns each input's gradient.
inline std::vector<Tensor<double>> pullback(const GradFunction& f, const std::vector<Tensor<double>>& inputs,
                                            const Tensor<double>* seed, Shape* out_shape) {
  Tape<double> tape;
  std::vector<Var<double>> vars;
  for (const auto& x : inputs) vars.push_back(tape.variable(x));
  Var<double> out = f(tape, vars);
  for (int id = 0; id < tape.size(); ++id) {
    const Node<double>& n = tape.node(id);
    if (!n.inputs.empty()) gradcheck_coverage().insert(n.op);
  }
  if (out_shape) *out_shape = out.shape();
  std::vector<Tensor<double>> grads;
  if (!seed) return grads;
  tape.backward(out, *seed);
  for (const auto& v : vars) {
    const Node<double>& n = tape.node(v.id());
    grads.push_back(n.has_grad ? n.grad : Tensor<double>(v.shape()));
  }
  return grads;
}

inline bool close(double analytic, double numeric, const GradCheckOptions& o) {
  return std::abs(analytic - numeric) <= o.atol + o.rtol * std::abs(numeric);
}

}  // namespace detail

inline GradCheckResult check_gradients(const GradFunction& f, const std::vector<Tensor<double>>& inputs,
                                       const GradCheckOptions& opt = {}) {
  GradCheckResult result;
  Shape out_shape;
  detail::pullback(f, inputs, nullptr, &out_shape);
  const int64_t n_out = out_shape.numel();
  int64_t n_in = 0;
  for (const auto& x : inputs) n_in += x.numel();
  std::ostringstream report;
  report.precision(10);
  int failures = 0;
  auto record = [&](const std::string& where, double analytic, double numeric) {
    const double err = std::abs(analytic - numeric);
    if (!(err <= result.max_error) && std::isfinite(err)) result.max_error = err;
    if (detail::close(analytic, numeric, opt)) return;
    result.ok = false;
    if (!std::isfinite(err)) result.max_error = err;
    if (++failures <= 5) report << "  " << where << ": analytic " << analytic << ", numeric " << numeric << '\n';
  };

  if (n_in * n_out <= opt.full_jacobian_limit) {
    // analytic[r][j]: row r of the Jacobian from a one-hot seed on output r
    std::vector<std::vector<Tensor<double>>> rows;
    for (int64_t r = 0; r < n_out; ++r) {
      Tensor<double> seed(out_shape);
      seed[r] = 1;
      rows.push_back(detail::pullback(f, inputs, &seed, nullptr));
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      for (int64_t j = 0; j < inputs[i].numel(); ++j) {
        std::vector<Tensor<double>> plus = inputs, minus = inputs;
        plus[i][j] += opt.eps;
        minus[i][j] -= opt.eps;
        const Tensor<double> fp = detail::evaluate(f, plus), fm = detail::evaluate(f, minus);
        for (int64_t r = 0; r < n_out; ++r) {
          const double numeric = (fp[r] - fm[r]) / (2 * opt.eps);
          record("input " + std::to_string(i) + " element " + std::to_string(j) + ", output " + std::to_string(r),
                 rows[r][i][j], numeric);
        }
      }
    }
  } else {
    std::mt19937_64 rng(opt.seed);
    std::normal_distribution<double> normal;
    for (int p = 0; p < opt.projections; ++p) {
      Tensor<double> u(out_shape);
      for (int64_t r = 0; r < n_out; ++r) u[r] = normal(rng);
      std::vector<Tensor<double>> v, plus = inputs, minus = inputs;
      for (size_t i = 0; i < inputs.size(); ++i) {
        v.emplace_back(inputs[i].shape());
        for (int64_t j = 0; j < inputs[i].numel(); ++j) {
          v[i][j] = normal(rng);
          plus[i][j] += opt.eps * v[i][j];
          minus[i][j] -= opt.eps * v[i][j];
        }
      }
      const std::vector<Tensor<double>> g = detail::pullback(f, inputs, &u, nullptr);  // J^T u
      double analytic = 0;
      for (size_t i = 0; i < inputs.size(); ++i) analytic += (g[i].array() * v[i].array()).sum();
      const Tensor<double> fp = detail::evaluate(f, plus), fm = detail::evaluate(f, minus);
      const double numeric = ((fp.array() - fm.array()) * u.array()).sum() / (2 * opt.eps);
      record("projection " + std::to_string(p) + " <u, J v>", analytic, numeric);
    }
  }
  std::ostringstream head;
  head << (result.ok ? "gradients match" : "GRADIENT MISMATCH") << " (" << (n_in * n_out <= opt.full_jacobian_limit ? "full Jacobian" : "projections")
       << ", " << n_in << " inputs, " << n_out << " outputs, max error " << result.max_error << ")\n";
  result.report = head.str() + report.str();
  if (failures > 5) result.report += "  ... and " + std::to_string(failures - 5) + " more\n";
  return result;
}

}  // namespace torus
