#include "train/run_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <random>

namespace torus::train {

TrainConfig read_run_config(const std::string& run_dir) {
  TrainConfig config;
  apply_toml_file(config, run_dir + "/config.toml");
  try {
    validate(config);
  } catch (const ConfigError& e) {
    throw ConfigError(run_dir + "/config.toml: " + e.what());  // which file holds the bad setting
  }
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

RunFolderLock::RunFolderLock(const std::string& run_dir) {
  do fd_ = ::open(run_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) throw std::runtime_error(run_dir + ": cannot open the run folder (" + std::strerror(errno) + ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw ConfigError(run_dir + ": another torus-train is writing this run folder; wait for it to finish or choose another --out");
    throw std::runtime_error(run_dir + ": cannot lock the run folder (" + std::strerror(err) + ")");
  }
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace torus::train
