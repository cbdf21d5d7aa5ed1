// Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), PyTorch's formulation:
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// Adam adds weight decay to the gradient (g = grad + wd p); AdamW decays the weight directly
// (p -= lr wd p) before the update, so the decay is not rescaled by the adaptive denominator.
#pragma once

#include "nn/optimizer.hpp"

namespace torus::nn {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;  // true: AdamW
};

template <typename T>
class Adam : public Optimizer<T> {
 public:
  Adam(NamedParameters<T> params, const AdamOptions& opt);
  double lr() const override { return opt_.lr; }
  void set_lr(double lr) override { opt_.lr = lr; }
  const AdamOptions& options() const { return opt_; }

 private:
  void update() override;
  AdamOptions opt_;
};

// AdamW with PyTorch's default weight decay of 0.01.
template <typename T>
Adam<T> make_adamw(NamedParameters<T> params, double lr, double weight_decay = 0.01);

extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace torus::nn
