// Supervised contrastive loss (Khosla et al., HobbitLong's contrast_mode 'all') with the per-mode
// scaling of method.md 4: logits <f_i, f_j> / (tau S), self excluded from the denominator,
// positives = same label other than self, loss multiplied by tau / base_tau. Lives in nn/ beside
// the head modes because the scale S is a property of the geometry, not of the training loop.
// Composed from engine primitives; logsumexp is what keeps it stable.
#pragma once

#include "autodiff/ops.hpp"

#include <vector>

namespace torus::nn {

struct SupConOptions {
  double temperature = 0.1;       // tau
  double base_temperature = 0.07; // the loss carries tau / base_tau (1.4286 by default); set it
                                  // equal to tau to drop the factor, as benchmarks.md's W1 does
};

template <typename T>
struct SupConLoss {
  Var<T> loss;                        // scalar
  int64_t anchors = 0;                // views * B
  int64_t anchors_without_positive = 0;  // masked out of the mean
};

// features: (views * B, F), stacked view-major (rows v*B .. v*B+B-1 are view v); labels: B values.
// scale: S of the head mode (contrastive_features). With no anchor that has a positive (batch of
// one image with one view, or every class seen once in a single view) the loss is exactly 0 with
// a zero gradient.
template <typename T>
SupConLoss<T> supcon_loss(const Var<T>& features, const std::vector<int>& labels, int views, double scale,
                          const SupConOptions& opt = {});

}  // namespace torus::nn
