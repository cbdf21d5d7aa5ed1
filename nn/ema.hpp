// Exponential moving average of the weights (torch_ema, as the reference training uses it):
// shadow = d shadow + (1 - d) p, with d = min(decay, (1 + n) / (10 + n)) after n updates when
// use_num_updates is on, so early averages are not dominated by the random initialisation.
// Parameters only (no batch-norm buffers). swap() exchanges shadow and live weights, so
// evaluating with the average and going back is swap(), evaluate, swap().
#pragma once

#include "nn/module.hpp"

#include <vector>

namespace torus::nn {

template <typename T>
class Ema {
 public:
  Ema(NamedParameters<T> params, double decay, bool use_num_updates = true);
  void update();
  void swap();
  int64_t updates() const { return updates_; }
  const std::vector<Tensor<T>>& shadow() const { return shadow_; }  // in parameter order
  double current_decay() const;
  // Resuming: replaces the averages and the update count. The shadow must match the parameters'
  // shapes, in parameter order; std::invalid_argument (naming the parameter) and nothing changed
  // otherwise.
  void restore(std::vector<Tensor<T>> shadow, int64_t updates);

 private:
  NamedParameters<T> params_;
  std::vector<Tensor<T>> shadow_;
  double decay_;
  bool use_num_updates_;
  int64_t updates_ = 0;
};

extern template class Ema<float>;
extern template class Ema<double>;

}  // namespace torus::nn
