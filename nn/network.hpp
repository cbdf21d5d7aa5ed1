// A backbone (a Sequential producing a feature vector) ending in either a classifier (Linear to
// the class logits) or an EmbeddingHead (method.md 2-3). The model factories build on it.
#pragma once

#include "nn/embedding_head.hpp"
#include "nn/linear.hpp"

#include <memory>
#include <optional>

namespace torus::nn {

struct OutputSpec {
  int64_t classes = 0;                       // > 0: a classifier with this many logits
  std::optional<EmbeddingHeadConfig> head;   // or an embedding head (its in_features is set for you)
  static OutputSpec classifier(int64_t classes) { return {classes, std::nullopt}; }
  static OutputSpec embedding(HeadMode mode, int64_t dim) { return {0, EmbeddingHeadConfig{mode, 0, dim, 0, {}}}; }
};

template <typename T>
class Network : public Module<T> {
 public:
  // backbone maps the input to (N, features).
  Network(std::unique_ptr<Sequential<T>> backbone, int64_t features, const OutputSpec& output, std::mt19937_64& rng);
  Var<T> forward(const Var<T>& x) override;
  NamedParameters<T> parameters() override;
  NamedBuffers<T> buffers() override;
  void set_training(bool on) override;
  void set_batch_norm_sync(const dist::Communicator* comm) override { backbone_->set_batch_norm_sync(comm); }
  Sequential<T>& backbone() { return *backbone_; }
  EmbeddingHead<T>* head() { return head_.get(); }

 private:
  std::unique_ptr<Sequential<T>> backbone_;
  std::unique_ptr<Linear<T>> classifier_;
  std::unique_ptr<EmbeddingHead<T>> head_;
};

extern template class Network<float>;
extern template class Network<double>;

}  // namespace torus::nn
