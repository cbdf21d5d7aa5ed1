// Linear layer y = x W^T + b with PyTorch's layout and default initialisation, so results are
// comparable run for run with the reference: W (out, in) and b (out) uniform in
// +-1/sqrt(in) (Kaiming-uniform with a = sqrt(5) reduces to exactly that bound).
#pragma once

#include "autodiff/ops.hpp"
#include "nn/module.hpp"

#include <cstdint>
#include <random>

namespace torus::nn {

template <typename T>
class Linear : public Module<T> {
 public:
  Linear(int64_t in_features, int64_t out_features, std::mt19937_64& rng, bool bias = true);

  // x: (B, in) -> (B, out)
  Var<T> forward(const Var<T>& x) override;
  NamedParameters<T> parameters() override;

  Parameter<T> weight;  // (out, in)
  Parameter<T> bias;    // (out); empty when built without bias
  bool has_bias;
};

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace torus::nn
