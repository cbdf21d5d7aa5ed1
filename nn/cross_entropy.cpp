#include "nn/cross_entropy.hpp"

#include <stdexcept>

namespace torus::nn {

template <typename T>
Var<T> cross_entropy(const Var<T>& logits, const std::vector<int>& labels, double label_smoothing) {
  const Shape& s = logits.shape();
  if (s.rank() != 2 || s[0] != static_cast<int64_t>(labels.size())) {
    throw ShapeError("cross_entropy: logits " + s.str() + " for " + std::to_string(labels.size()) + " labels");
  }
  if (!(label_smoothing >= 0 && label_smoothing < 1)) {
    throw std::invalid_argument("cross_entropy: label smoothing must be in [0, 1), got " + std::to_string(label_smoothing));
  }
  const int64_t B = s[0], C = s[1];
  Tensor<T> target(s, T(label_smoothing / double(C)));  // (B, C)
  for (int64_t i = 0; i < B; ++i) {
    if (labels[i] < 0 || labels[i] >= C) {
      throw std::invalid_argument("cross_entropy: label " + std::to_string(labels[i]) + " of row " + std::to_string(i) +
                                  " is outside [0, " + std::to_string(C) + ")");
    }
    target[i * C + labels[i]] += T(1 - label_smoothing);
  }
  return -mean(sum(log_softmax(logits, 1) * logits.tape().constant(std::move(target)), 1));
}

template Var<float> cross_entropy(const Var<float>&, const std::vector<int>&, double);
template Var<double> cross_entropy(const Var<double>&, const std::vector<int>&, double);

}  // namespace torus::nn
