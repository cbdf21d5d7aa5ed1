// The reference network of benchmarks.md ("FmnistConvNet"): conv3x3(1->32, pad 1) ReLU maxpool2
// -> conv3x3(32->64, pad 1) ReLU maxpool2 -> flatten (3136) -> the embedding head, whose
// (ReLU and max pooling run in the other order, which gives identical values and gradients)
// Linear(3136 -> 128) ReLU Linear(128 -> D) is the reference's fully connected part. Input
// (N, 1, 28, 28), already normalised.
#pragma once

#include "nn/conv2d.hpp"
#include "nn/embedding_head.hpp"

namespace torus::nn {

template <typename T>
class FmnistConvNet : public Module<T> {
 public:
  // head.in_features and head.hidden are set here (3136 and 128); mode and dim come from `head`.
  FmnistConvNet(EmbeddingHeadConfig head, std::mt19937_64& rng);
  Var<T> forward(const Var<T>& x) override;  // (N, 1, 28, 28) -> (N, D)
  NamedParameters<T> parameters() override;
  const EmbeddingHeadConfig& head_config() const { return head_.config(); }
  EmbeddingHead<T>& head() { return head_; }

 private:
  static EmbeddingHeadConfig reference_head(EmbeddingHeadConfig c);
  Conv2d<T> conv1_, conv2_;
  EmbeddingHead<T> head_;
};

extern template class FmnistConvNet<float>;
extern template class FmnistConvNet<double>;

}  // namespace torus::nn
