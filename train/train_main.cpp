// torus-train: trains an embedding network into a run folder.
//   torus-train [--config FILE.toml] [--section.key VALUE ...] [--out DIR]
//   torus-train --resume DIR [--train.epochs N] [--train.threads T] [--train.sync_bn B]
//   mpirun -np R torus-train ...   (or srun): R ranks train one model data-parallel
// The folder gets config.toml (every setting, resolved), metrics.csv, last.ckpt, best.ckpt and
// the plots. Exit status: 0 done, 1 bad data or files, 2 bad configuration, 3 training stopped
// (under mpirun, a failure of one rank alone ends every rank with status 1).
#include "datasets/image_file.hpp"
#include "nn/dist/communicator.hpp"
#include "nn/io/checkpoint.hpp"
#include "train/trainer.hpp"

#include "train/command_line.hpp"
#include "train/ranks.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <unistd.h>

using namespace torus;
namespace fs = std::filesystem;

namespace {
// --resume DIR: the run's own config.toml; only the epochs and the threads may change.
void resumed_config(const std::string& resume_dir, const std::vector<std::pair<std::string, std::string>>& pending,
                    train::TrainConfig& config, train::RunOptions& options) {
  options.dir = resume_dir;
  options.resume = true;
  train::apply_toml_file(config, resume_dir + "/config.toml");
  for (const auto& [key, text] : pending)
    if (!train::changeable_on_resume(key))
      throw train::ConfigError("--" + key + ": a resumed run keeps its configuration; only --train.epochs, "
                               "--train.threads and --train.sync_bn may change");
  train::apply_flags(config, pending);
  if (!fs::exists(resume_dir + "/last.ckpt"))
    throw train::ConfigError(resume_dir + ": no last.ckpt to resume from (the run ended before its first epoch)");
  // Fewer epochs than done would train nothing and rewrite the run's configuration.
  const nn::io::Checkpoint last = nn::io::read_checkpoint(resume_dir + "/last.ckpt");
  train::check_resumed_settings(config, resume_dir + "/config.toml", last.settings, resume_dir + "/last.ckpt");
  const int64_t done = last.epoch;
  if (config.epochs <= done)
    throw train::ConfigError("train.epochs " + std::to_string(config.epochs) + ": the run in " + resume_dir +
                             " has already done " + std::to_string(done) + " epochs; ask for more to continue it");
}

// A new run: the file, then the flags; the folder named by --out or by the configuration, which
// must not hold a run already unless --overwrite.
void new_run_config(const std::string& config_path, const std::string& out_dir, bool overwrite,
                    const std::vector<std::pair<std::string, std::string>>& pending, train::TrainConfig& config,
                    train::RunOptions& options) {
  if (!config_path.empty()) train::apply_toml_file(config, config_path);
  train::apply_flags(config, pending);
  train::validate(config);
  train::resolve_paths(config);
  options.dir = !out_dir.empty() ? out_dir
                                 : "runs/" + config.dataset + "-" + config.head + "-D" + std::to_string(config.dim) +
                                       "-seed" + std::to_string(config.seed);
  if (overwrite) return;
  if (fs::exists(options.dir + "/last.ckpt"))
    throw train::ConfigError(options.dir + " already holds a run: continue it with --resume " + options.dir +
                             ", start over with --overwrite, or choose another --out");
  // A run killed while saving its first epoch: metrics.csv, but no checkpoint to resume from.
  if (fs::exists(options.dir + "/metrics.csv"))
    throw train::ConfigError(options.dir + " holds a run that stopped before its first checkpoint (nothing to resume): "
                             "start over with --overwrite, or choose another --out");
}

// The run's work once the configuration is settled; every rank of a data-parallel run does it.
int train_and_report(const train::TrainConfig& config, const train::RunOptions& options, bool rank0) {
  try {
    const train::RunSummary s = train::train_run(config, options);
    if (rank0)
      std::printf("{\"run\":\"%s\",\"epochs\":%lld,\"precision_at_1\":%.4f,\"best_precision_at_1\":%.4f,\"best_epoch\":%lld,"
                  "\"train_seconds\":%.1f}\n",
                  options.dir.c_str(), static_cast<long long>(s.epochs_done), s.last_precision_at_1, s.best_precision_at_1,
                  static_cast<long long>(s.best_epoch), s.train_seconds);
    return 0;
  } catch (const train::TrainingStopped& e) {
    // The same on every rank (the loss and the averaged gradients are), so every rank stops here.
    if (rank0) std::fprintf(stderr, "\ntorus-train: training stopped at %s\n", e.what());
    return 3;
  }
}
}  // namespace

int main(int argc, char** argv) {
  // Under mpirun or srun one rank of a data-parallel run (nn/dist), else one process as ever.
  const std::unique_ptr<dist::Session> session = train::start_session("torus-train", argc, argv);
  if (!session) return 1;
  const dist::Communicator& world = session->world();
  const bool rank0 = world.rank() == 0;

  CLI::App app{"Trains a torus (or sphere) embedding network with SupCon and KoLeo into a run folder. Under mpirun or srun "
               "the ranks train one model data-parallel (README: clusters)."};
  std::string config_path, out_dir, resume_dir;
  bool debug = false, overwrite = false;
  std::vector<std::pair<std::string, std::string>> pending;
  app.add_option("--config", config_path, "TOML file of settings ([section] key = value); flags win over it")
      ->check(CLI::ExistingFile);
  app.add_option("--out", out_dir, "run folder (default runs/<dataset>-<head>-D<dim>-seed<seed>)");
  app.add_option("--resume", resume_dir, "continue the run in this folder from its last checkpoint")
      ->excludes("--config")
      ->excludes("--out")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--overwrite", overwrite, "start over in --out even if it already holds a run");
  app.add_flag("--debug", debug, "on a non-finite loss or gradient, name the first op that produced it");
  train::add_setting_flags(app, pending);
  if (const int status = train::parse_on_every_rank(app, argc, argv, world); status >= 0) return status;

  train::TrainConfig config;
  train::RunOptions options;
  options.debug = debug;
  options.terminal = isatty(fileno(stderr));
  options.world = &world;
  // Settings errors are the user's (exit status 2), an unreadable checkpoint is bad data (1); every
  // rank reads its own copy of the files, so they agree on the first rank's error before anyone
  // starts training.
  int setup_status = 0;
  std::string setup_error;
  try {
    if (!resume_dir.empty()) resumed_config(resume_dir, pending, config, options);
    else new_run_config(config_path, out_dir, overwrite, pending, config, options);
    train::validate(config);
  } catch (const train::ConfigError& e) {
    setup_status = 2, setup_error = e.what();
  } catch (const std::exception& e) {
    setup_status = 1, setup_error = e.what();
  }
  if (const dist::RankFailure f = dist::first_failure(world, setup_status, setup_error); f.rank >= 0) {
    // "configuration: ...", "configuration (rank 1): ...", "...", "rank 1: ..."
    std::string what = f.status == 2 ? "configuration" : "";
    if (world.size() > 1) what += (what.empty() ? "rank " : " (rank ") + std::to_string(f.rank) + (f.status == 2 ? ")" : "");
    if (rank0) std::fprintf(stderr, "torus-train: %s%s%s\n", what.c_str(), what.empty() ? "" : ": ", f.message.c_str());
    return f.status;
  }
  if (rank0) {
    std::string ranks;
    if (world.size() > 1) ranks = ", " + std::to_string(world.size()) + " ranks x " + std::to_string(config.threads) + " threads";
    std::fprintf(stderr, "torus-train: %s, %s D%lld, %s, %lld epochs%s -> %s\n", config.dataset.c_str(), config.head.c_str(),
                 static_cast<long long>(config.dim), config.arch.c_str(), static_cast<long long>(config.epochs),
                 ranks.c_str(), options.dir.c_str());
  }
  if (world.size() > 1) {
    // Any other failure may be one rank's alone (a file only it reads): it ends every rank, with
    // its message, rather than leave the others waiting in a collective.
    return dist::run_or_abort(world, [&] { return train_and_report(config, options, rank0); });
  }
  try {
    return train_and_report(config, options, rank0);
  } catch (const train::ConfigError& e) {
    std::fprintf(stderr, "torus-train: configuration: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\ntorus-train: %s\n", e.what());
    return 1;
  }
}
