// Builds the network a configuration names, for a given input shape, and says which embedding
// head it ends in (the trainer rewraps torusC heads and the embedder needs the mode).
#pragma once

#include "nn/embedding_head.hpp"
#include "nn/module.hpp"
#include "train/train_config.hpp"

#include <memory>
#include <random>

namespace torus::train {

struct Model {
  std::unique_ptr<nn::Module<float>> net;  // input (N, C, H, W) or (N, F) -> z (N, D) in the head's space
  nn::EmbeddingHead<float>* head = nullptr;
  nn::HeadMode mode = nn::HeadMode::torusN;
};

// input_shape: (C, H, W) for images, (F) for feature vectors. Initialised from `rng` (PyTorch's
// default initialisation). Throws ConfigError when the architecture cannot take that input
// (found by running one zero input through it), naming both.
Model make_model(const TrainConfig& config, const std::vector<int64_t>& input_shape, std::mt19937_64& rng);

}  // namespace torus::train
