// Stochastic gradient descent with momentum, PyTorch's formulation: g = grad + wd p; the buffer
// starts at the first g, then v = mu v + g; the step is -lr v, or -lr (g + mu v) with Nesterov.
#pragma once

#include "nn/optimizer.hpp"

namespace torus::nn {

struct SgdOptions {
  double lr = 0.1;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;  // L2, added to the gradient
};

template <typename T>
class Sgd : public Optimizer<T> {
 public:
  Sgd(NamedParameters<T> params, const SgdOptions& opt);
  double lr() const override { return opt_.lr; }
  void set_lr(double lr) override { opt_.lr = lr; }
  const SgdOptions& options() const { return opt_; }

 private:
  void update() override;
  SgdOptions opt_;
};

extern template class Sgd<float>;
extern template class Sgd<double>;

}  // namespace torus::nn
