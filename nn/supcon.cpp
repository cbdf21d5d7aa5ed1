#include "nn/supcon.hpp"

#include <limits>
#include <stdexcept>

namespace torus::nn {

template <typename T>
SupConLoss<T> supcon_loss(const Var<T>& features, const std::vector<int>& labels, int views, double scale,
                          const SupConOptions& opt) {
  const int64_t B = static_cast<int64_t>(labels.size());
  const int64_t N = views * B;
  if (views < 1 || features.shape().rank() != 2 || features.shape()[0] != N) {
    throw ShapeError("supcon_loss: features " + features.shape().str() + " do not hold " + std::to_string(views) +
                     " views of " + std::to_string(B) + " labelled rows");
  }
  if (!(opt.temperature > 0) || !(opt.base_temperature > 0) || !(scale > 0)) {
    throw std::invalid_argument("supcon_loss: temperature, base temperature and scale must be positive");
  }
  // Positive weights (N, N): 1/|P(i)| on each positive j of anchor i, 0 elsewhere (and on self).
  // Both masks are constants filled in the tape's kept buffers: no allocation per step.
  Tape<T>& tape = features.tape();
  Tensor<T>& self_mask = tape.constant_buffer(Shape{N, N}, T(0)).value;
  const auto positive = tape.constant_buffer(Shape{N, N}, T(0));
  Tensor<T>& positive_weight = positive.value;
  const Var<T> positive_weights = positive.var;
  SupConLoss<T> out;
  out.anchors = N;
  int64_t valid = 0;
  for (int64_t i = 0; i < N; ++i) {
    self_mask[i * N + i] = 1;
    const int label = labels[static_cast<size_t>(i % B)];
    int64_t same = 0;  // rows of this label in one view
    for (int64_t j = 0; j < B; ++j) same += labels[static_cast<size_t>(j)] == label;
    const int64_t count = views * same - 1;  // positives: every view of them but the anchor itself
    if (count == 0) {
      ++out.anchors_without_positive;
      continue;
    }
    ++valid;
    const T weight = T(1.0 / double(count));
    T* row = positive_weight.data() + i * N;
    for (int64_t v = 0; v < views; ++v)
      for (int64_t j = 0; j < B; ++j) row[v * B + j] = labels[static_cast<size_t>(j)] == label ? weight : T(0);
    row[i] = T(0);
  }
  if (valid == 0) {
    out.loss = affine(sum(features), 0.0, 0.0);  // 0, still on the graph, zero gradient
    return out;
  }
  const Var<T> logits = matmul(features, features, false, true) * (1.0 / (opt.temperature * scale));  // (N, N)
  // log p_ij = s_ij - log sum_{k != i} exp(s_ik); logsumexp subtracts the row maximum itself
  const Var<T> denominator =
      logsumexp(masked_fill(logits, self_mask, -std::numeric_limits<double>::infinity()), 1, true);  // (N, 1)
  const Var<T> log_prob = logits - denominator;                                                    // (N, N)
  const Var<T> mean_log_prob_pos = sum(log_prob * positive_weights, 1);                            // (N)
  out.loss = sum(mean_log_prob_pos) * (-(opt.temperature / opt.base_temperature) / double(valid));
  return out;
}

template SupConLoss<float> supcon_loss(const Var<float>&, const std::vector<int>&, int, double, const SupConOptions&);
template SupConLoss<double> supcon_loss(const Var<double>&, const std::vector<int>&, int, double, const SupConOptions&);

}  // namespace torus::nn
