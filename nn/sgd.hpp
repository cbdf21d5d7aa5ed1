// Stochastic gradient descent with momentum (PyTorch's formulation: v = mu v + g; step -lr v, or
// -lr (g + mu v) with Nesterov) and L2 weight decay added to the gradient. State (one velocity per
// parameter) lives here, keyed by the parameter's name.
#pragma once

#include "nn/module.hpp"

#include <map>

namespace torus::nn {

struct SgdOptions {
  double lr = 0.1;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
};

template <typename T>
class Sgd {
 public:
  Sgd(NamedParameters<T> params, const SgdOptions& opt);
  void step();       // one update from the parameters' current gradients
  void zero_grad();  // gradients back to 0 (they accumulate otherwise)
  SgdOptions& options() { return opt_; }

 private:
  NamedParameters<T> params_;
  SgdOptions opt_;
  std::map<std::string, Tensor<T>> velocity_;
};

extern template class Sgd<float>;
extern template class Sgd<double>;

}  // namespace torus::nn
