// The data-parallel training step, timed: what a step of `mpirun -np R torus-train` costs and how
// much of it is communication. Every rank trains its part of a global batch with SupCon over the
// gathered batch and averages the gradients, as the trainer does; the communicator counts the
// bytes each rank sends and the seconds spent inside collectives (waiting for a slower rank
// included, so a barrier before the gradient allreduce separates the waiting from the transfer).
#pragma once

#include "nn/dist/communicator.hpp"

#include <string>

namespace torus::tools {

struct DistBenchOptions {
  std::string arch = "convnet";  // convnet (W1: Fashion-MNIST 1x28x28) or resnet20 (W7: 3x32x32, width 16)
  int batch = 128;               // global batch
  int steps = 30, warmup = 5;
  int threads = 1;               // per rank
  bool sync_bn = false;
};

// Prints one JSON line from rank 0: ranks, threads, images/s, ms per step, and per step the
// milliseconds waiting (a barrier after the backward), in the gradient allreduce and in the
// forward's and backward's collectives (the features' all-gather, its backward's allreduce, sync
// batch norm's statistics), and the bytes each rank sent into each.
void run_dist_step(const dist::Communicator& world, const DistBenchOptions& options);

}  // namespace torus::tools
