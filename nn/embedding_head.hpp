// The head any backbone can end in (method.md 2-3): Linear(in -> hidden) -> ReLU -> Linear(hidden
// -> D) -> the mode's map. Outputs, each in its mode's training space (method.md 3.4):
//   sphere        z = h / |h|                  (B, D)
//   torusN        pairwise-normalised h        (B, D), D even: K = D/2 circles
//   torusC        wrap01(h): h mod 1            (B, D) coordinates in turns (gradient 1)
//   spherization  Linear(hidden -> D-1) -> Spherization -> (B, D) on the sphere of radius r [D]
//   none          h                             (B, D)
#pragma once

#include "nn/contrastive_features.hpp"  // what the head's output hands the loss
#include "nn/head_mode.hpp"
#include "nn/linear.hpp"
#include "nn/spherization.hpp"

#include <memory>
#include <random>

namespace torus::nn {

struct EmbeddingHeadConfig {
  HeadMode mode = HeadMode::torusN;
  int64_t in_features = 512;
  int64_t dim = 16;     // D
  int64_t hidden = 0;   // 0: 4 D, as the reference's final head
  SpherizationOptions spherization{};
};

template <typename T>
class EmbeddingHead : public Module<T> {
 public:
  EmbeddingHead(const EmbeddingHeadConfig& config, std::mt19937_64& rng);
  // x (B, in_features) -> z (B, D) in the mode's space.
  Var<T> forward(const Var<T>& x) override;
  NamedParameters<T> parameters() override;
  const EmbeddingHeadConfig& config() const { return config_; }
  // torusC: wraps the last layer's bias into [0, 1). That shifts every output by the same integer
  // vector, which changes no loss, gradient or metric, and keeps the offset of the raw coordinates
  // bounded so float precision is not lost as training moves them. No-op for other modes.
  void rewrap();

 private:
  EmbeddingHeadConfig config_;
  Linear<T> fc1_, fc2_;
  std::unique_ptr<Spherization<T>> spherization_;
};

extern template class EmbeddingHead<float>;
extern template class EmbeddingHead<double>;

}  // namespace torus::nn
