#include "nn/spherization.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace torus::nn {

namespace {
// The reference implementation's truncated pi; kept so outputs match it bit for bit (method.md
// 14.1 and 14.6). The difference from pi is 6.5e-7 rad, far below anything training sees.
constexpr double kReferencePi = 3.141592;
constexpr double kLogEps = 1e-6;  // inside every log, as in the reference
}  // namespace

double spherization_lower_angle(int64_t n, double delta) {
  if (n < 1) throw std::invalid_argument("spherization: n must be at least 1, got " + std::to_string(n));
  if (!(delta > 0 && delta < 1)) throw std::invalid_argument("spherization: delta must be in (0, 1), got " + std::to_string(delta));
  // every product of n sines is then >= sin(phi_L)^n = delta, so no coordinate underflows to 0
  return std::min(std::asin(std::pow(delta, 1.0 / double(n))), (kReferencePi / 2) * (1 - 0.01));
}

template <typename T>
Spherization<T>::Spherization(int64_t n, const SpherizationOptions& opt)
    : n_(n), phi_lower_(spherization_lower_angle(n, opt.delta)), opt_(opt) {
  scale.value = Tensor<T>(Shape{1}, T(opt.scale));
  radius.value = Tensor<T>(Shape{1}, T(opt.radius));
}

template <typename T>
Var<T> Spherization<T>::spherize_rows(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  const Var<T> s = opt_.learn_scale ? tape.param(scale) : tape.constant(scale.value);
  const Var<T> r = opt_.learn_radius ? tape.param(radius) : tape.constant(radius.value);
  // angularise: theta = (pi/2 - phi_L) sigmoid(s x) + phi_L, in (phi_L, pi/2)
  const Var<T> theta = affine(sigmoid(x * s), kReferencePi / 2 - phi_lower_, phi_lower_);  // (B, n)
  // log-domain spherical -> Cartesian: y_j = r prod_{i<j} sin(theta_i) cos(theta_j) for j < n, and
  // y_n = r prod_{i<n} sin(theta_i) (the duplicated last angle of method.md 14.1 step 3)
  const Var<T> log_sin = log(abs(sin(theta)) + kLogEps);                  // (B, n)
  const Var<T> log_cos = log(abs(cos(theta)) + kLogEps);                  // (B, n)
  const Var<T> before = cumsum(log_sin, 1, /*exclusive=*/true);           // sum_{i<j} log sin
  const Var<T> last = slice(before + log_sin, 1, n_ - 1, n_);             // sum_{i<n} log sin, (B, 1)
  return exp(concat<T>({before + log_cos, last}, 1)) * r;                 // (B, n+1)
}

template <typename T>
Var<T> Spherization<T>::forward(const Var<T>& x) {
  const Shape& s = x.shape();
  if (s.rank() == 2 && s[1] == n_) return spherize_rows(x);
  if (s.rank() == 4 && s[1] == n_) {
    // per pixel over channels: NCHW -> NHWC -> (B H W, C) -> spherize -> back
    const Var<T> rows = reshape(nchw_to_nhwc(x), {-1, n_});
    const Var<T> y = reshape(spherize_rows(rows), {s[0], s[2], s[3], n_ + 1});
    return nhwc_to_nchw(y);
  }
  throw ShapeError("Spherization: expected (B, " + std::to_string(n_) + ") or (B, " + std::to_string(n_) +
                   ", H, W), got " + s.str());
}

template <typename T>
NamedParameters<T> Spherization<T>::parameters() {
  NamedParameters<T> out;
  if (opt_.learn_scale) out.emplace_back("scale", &scale);
  if (opt_.learn_radius) out.emplace_back("radius", &radius);
  return out;
}

template <typename T>
SphericLinear<T>::SphericLinear(int64_t in_features, int64_t out_features, std::mt19937_64& rng,
                                const SpherizationOptions& opt)
    : spherization(in_features, opt), linear(in_features + 1, out_features, rng, /*bias=*/false) {}

template <typename T>
Var<T> SphericLinear<T>::forward(const Var<T>& x) {
  return linear(spherization(x));
}

template <typename T>
NamedParameters<T> SphericLinear<T>::parameters() {
  NamedParameters<T> out;
  append_named(out, "spherization", spherization.parameters());
  append_named(out, "linear", linear.parameters());
  return out;
}

template class Spherization<float>;
template class Spherization<double>;
template class SphericLinear<float>;
template class SphericLinear<double>;

}  // namespace torus::nn
