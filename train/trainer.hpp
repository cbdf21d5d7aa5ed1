// torus-train's loop (method.md 4-6): batches of `views` augmented views per image, the head's
// contrastive features, SupCon plus weighted KoLeo, backward, clipping, the optimiser, EMA, and
// after each epoch precision@1 of held-out queries against training references, the metrics row,
// the plots and the checkpoints. One call trains one run folder from its start or from its last
// checkpoint.
#pragma once

#include "nn/dist/communicator.hpp"
#include "train/train_config.hpp"

#include <string>

namespace torus::train {

struct RunOptions {
  std::string dir;          // the run folder
  bool resume = false;      // continue from dir/last.ckpt with dir/config.toml
  bool debug = false;       // on a non-finite loss or gradient, name the first op that produced it
  bool terminal = false;    // draw a progress bar (else plain lines)
  // Data-parallel training (mpirun, srun): the run's ranks. Null: one process. Every rank calls
  // train_run with the same configuration; rank r trains on its part of every global batch, the
  // losses range over the global batch, gradients are averaged, and only rank 0 writes the folder.
  const dist::Communicator* world = nullptr;
};

// Thrown when training must stop (a non-finite loss or gradient); the message names the step.
class TrainingStopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunSummary {
  int64_t epochs_done = 0;
  double best_precision_at_1 = 0, last_precision_at_1 = 0;
  int64_t best_epoch = 0;
  double train_seconds = 0;
};

RunSummary train_run(const TrainConfig& config, const RunOptions& options);

}  // namespace torus::train
