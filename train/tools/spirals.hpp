// The engine's demonstration job: an MLP with two tanh hidden layers learns the classic
// two-spirals set (two interleaved spirals, one per class) with full-batch Adam and softmax
// cross-entropy, all on the tape: the smallest whole training job, for reading the engine at work.
#pragma once

#include "autodiff/tensor.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace torus::tools {

struct SpiralsOptions {
  int points_per_class = 200;
  int hidden = 64;
  int steps = 1500;
  double learning_rate = 0.01;
  double noise = 0.02;
  uint64_t seed = 0;
  int log_every = 100;  // report the loss every this many steps (0: never)
};

struct SpiralsResult {
  std::vector<double> loss;  // one value per step
  double accuracy = 0;       // on the training points after the last step
  double seconds = 0;
};

// points: (2N, 2), labels: 2N values in {0, 1}.
void make_spirals(int points_per_class, double noise, uint64_t seed, Tensor<float>& points, std::vector<int>& labels);

// on_log(step, loss, accuracy) is called every log_every steps and after the last one.
SpiralsResult train_spirals(const SpiralsOptions& opt,
                            const std::function<void(int, double, double)>& on_log = nullptr);

}  // namespace torus::tools
