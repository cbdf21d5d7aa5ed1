// The spherization layer (Kim & Kim, NeurIPS 2022; method.md 14, followed exactly): a
// pre-activation x in R^n becomes a point of the sphere of radius r in the positive orthant of
// R^(n+1), so everything downstream sees only angles. It must be followed by a bias-free layer.
// Built from engine primitives (no backward of its own): the products of sines are cumulative
// sums of logs (O(n), where the reference multiplies by an (n+1) x (n+1) triangular matrix).
#pragma once

#include "autodiff/ops.hpp"
#include "nn/linear.hpp"
#include "nn/module.hpp"

namespace torus::nn {

struct SpherizationOptions {
  double delta = 1e-6;       // lower bound of every product of sines
  double scale = 1.0;        // initial s (the reference's experiments use 5)
  double radius = 1.0;       // r (the reference's experiments use 5)
  bool learn_scale = true;   // lrable[0]
  bool learn_radius = false; // lrable[1]
};

// phi_L = asin(delta^(1/n)), capped at (pi/2)(1 - 0.01).
double spherization_lower_angle(int64_t n, double delta);

template <typename T>
class Spherization : public Module<T> {
 public:
  Spherization(int64_t n, const SpherizationOptions& opt = {});

  // (B, n) -> (B, n+1); rank-4 (B, n, H, W) runs per pixel over channels -> (B, n+1, H, W).
  Var<T> forward(const Var<T>& x) override;
  NamedParameters<T> parameters() override;  // "scale" and/or "radius", whichever is learnable

  int64_t n() const { return n_; }
  double lower_angle() const { return phi_lower_; }

  Parameter<T> scale;   // (1)
  Parameter<T> radius;  // (1)

 private:
  Var<T> spherize_rows(const Var<T>& x);  // (B, n) -> (B, n+1)
  int64_t n_;
  double phi_lower_;
  SpherizationOptions opt_;
};

// SphericLinear (method.md 14.2): Spherization(n = in) followed by the bias-free Linear(in + 1 ->
// out) it requires, so every logit is r |w| cos(angle(w, y)).
template <typename T>
class SphericLinear : public Module<T> {
 public:
  SphericLinear(int64_t in_features, int64_t out_features, std::mt19937_64& rng, const SpherizationOptions& opt = {});
  Var<T> forward(const Var<T>& x) override;  // (B, in) -> (B, out)
  NamedParameters<T> parameters() override;

  Spherization<T> spherization;
  Linear<T> linear;  // no bias
};

extern template class Spherization<float>;
extern template class Spherization<double>;
extern template class SphericLinear<float>;
extern template class SphericLinear<double>;

}  // namespace torus::nn
