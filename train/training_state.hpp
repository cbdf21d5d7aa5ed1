// What a run folder's checkpoints hold, on top of nn/io/checkpoint's file format:
//   last.ckpt  everything to continue: weights ("model/"), batch-norm buffers ("buffer/"),
//              optimiser state ("optim/", and its step count), EMA averages ("ema/"), the number
//              of epochs done and of optimiser steps taken. The data order and augmentation are
//              functions of (seed, epoch, index), so no generator state is needed beyond those.
//   best.ckpt  the weights that scored the best held-out precision@1 (the EMA average when EMA
//              is on) with their buffers: what torus-embed uses.
// Restoring checks every name and shape first and only then assigns, so a mismatched file leaves
// the model and optimiser untouched.
#pragma once

#include "nn/ema.hpp"
#include "nn/io/checkpoint.hpp"
#include "nn/optimizer.hpp"

#include <string>

namespace torus::train {

struct Progress {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimiser steps taken
};

void save_last(const std::string& path, const nlohmann::json& architecture, const Progress& progress,
               nn::Module<float>& net, nn::Optimizer<float>& optimizer, const nlohmann::json& optimizer_info,
               const nn::Ema<float>* ema, uint64_t seed, const nlohmann::json& settings);

void save_best(const std::string& path, const nlohmann::json& architecture, const Progress& progress,
               nn::Module<float>& net);

Progress restore_last(const std::string& path, const nlohmann::json& architecture, nn::Module<float>& net,
                      nn::Optimizer<float>& optimizer, nn::Ema<float>* ema);

// Weights and buffers only (either checkpoint); returns the file's progress.
Progress load_weights(const std::string& path, const nlohmann::json& architecture, nn::Module<float>& net);

}  // namespace torus::train
