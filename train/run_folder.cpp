#include "train/run_folder.hpp"

#include <random>

namespace torus::train {

TrainConfig read_run_config(const std::string& run_dir) {
  TrainConfig config;
  apply_toml_file(config, run_dir + "/config.toml");
  validate(config);
  return config;
}

std::string checkpoint_path(const std::string& run_dir, const std::string& checkpoint) {
  return checkpoint == "best" || checkpoint == "last" ? run_dir + "/" + checkpoint + ".ckpt" : checkpoint;
}

TrainedModel load_trained_model(const TrainConfig& config, const std::vector<int64_t>& input_shape,
                                const std::string& checkpoint_file) {
  // The generator only fills weights the checkpoint then replaces; seeded as training seeds it.
  std::mt19937_64 rng(uint64_t(config.seed));
  TrainedModel t{make_model(config, input_shape, rng), {}};
  t.progress = load_weights(checkpoint_file, architecture(config, input_shape), *t.model.net);
  t.model.net->set_training(false);
  return t;
}

}  // namespace torus::train
