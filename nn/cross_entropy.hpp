// Softmax cross-entropy with optional label smoothing, for the classifier baselines and the
// spherization experiments: targets (1 - eps) on the label plus eps / C on every class.
#pragma once

#include "autodiff/ops.hpp"

#include <vector>

namespace torus::nn {

// logits (B, C), labels in [0, C); mean over the batch.
template <typename T>
Var<T> cross_entropy(const Var<T>& logits, const std::vector<int>& labels, double label_smoothing = 0.0);

}  // namespace torus::nn
