// A run folder written by torus-train, read back by torus-embed, torus-export or any tool linking
// torus_train: its resolved configuration (config.toml), which file a checkpoint name means, and
// the network the configuration describes with a checkpoint's weights. Reading only: train_run
// (trainer.hpp) writes run folders, training_state.hpp says what a checkpoint holds.
#pragma once

#include "train/model_factory.hpp"
#include "train/training_state.hpp"

#include <string>
#include <vector>

namespace torus::train {

// run_dir/config.toml, read and validated; ConfigError names the file and the key.
TrainConfig read_run_config(const std::string& run_dir);

// "best" or "last": run_dir/<name>.ckpt; anything else is taken as a checkpoint file's path.
std::string checkpoint_path(const std::string& run_dir, const std::string& checkpoint);

struct TrainedModel {
  Model model;        // in evaluation mode
  Progress progress;  // of the checkpoint
};

// The network `config` describes for inputs of `input_shape` ((C, H, W) or (F), as the data gives
// it), with the weights and buffers of `checkpoint_file`, whose architecture must match.
TrainedModel load_trained_model(const TrainConfig& config, const std::vector<int64_t>& input_shape,
                                const std::string& checkpoint_file);

// Holds an exclusive lock on a run folder (flock on the folder itself, so no lock file is left
// behind) for as long as it lives: two torus-train processes can never write one folder at once.
// The second one gets an error naming the folder instead of interleaving its files.
class RunFolderLock {
 public:
  explicit RunFolderLock(const std::string& run_dir);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace torus::train
