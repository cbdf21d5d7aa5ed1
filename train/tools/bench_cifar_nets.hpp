// W7 and W8 of benchmarks.md: ResNet-20 (width 16) and VGG-11-BN (widths 64-512) on 3x32x32
// inputs with the torusN D16 (or sphere) head: the single-view SupCon training step (tau 0.1,
// S = D/2, SGD lr 0.05 momentum 0.9), inference at a large batch and batch-1 latency. The
// PyTorch twin is ../shared/bench/bench_w7w8.py; like it, the inputs are random normal pixels and
// labels in ten classes (the time of a step does not depend on the pixels).
#pragma once

#include "nn/head_mode.hpp"

#include <string>

namespace torus::tools {

struct CifarNetBenchOptions {
  std::string workload = "W7";  // W7: ResNet-20, W8: VGG-11-BN
  nn::HeadMode head = nn::HeadMode::torusN;
  int threads = 1;
  int batch = 128, steps = 20, warmup = 3;
  int infer_batch = 1024, infer_reps = 5, latency_reps = 300;
  bool profile = false;  // each tape node's forward and backward time of the training step to stderr
};

// One JSON line each: the training step, inference throughput and batch-1 latency.
void run_cifar_net(const CifarNetBenchOptions& options);

}  // namespace torus::tools
