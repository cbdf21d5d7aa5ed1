#include "nn/linear.hpp"

#include <cmath>

namespace torus::nn {

template <typename T>
Linear<T>::Linear(int64_t in_features, int64_t out_features, std::mt19937_64& rng, bool with_bias) : has_bias(with_bias) {
  if (in_features <= 0 || out_features <= 0) {
    throw std::invalid_argument("Linear: sizes must be positive, got in=" + std::to_string(in_features) +
                                " out=" + std::to_string(out_features));
  }
  init_fan_in_uniform(weight, Shape{out_features, in_features}, has_bias ? &bias : nullptr, in_features, rng);
}

template <typename T>
Var<T> Linear<T>::forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  Var<T> y = matmul(x, tape.param(weight), false, true);  // (B, in) @ (out, in)^T
  return has_bias ? y + tape.param(bias) : y;              // bias broadcasts over rows
}

template <typename T>
NamedParameters<T> Linear<T>::parameters() {
  NamedParameters<T> out{{"weight", &weight}};
  if (has_bias) out.emplace_back("bias", &bias);
  return out;
}

template class Linear<float>;
template class Linear<double>;

}  // namespace torus::nn
