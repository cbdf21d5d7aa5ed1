// torus-train: trains an embedding network into a run folder.
//   torus-train [--config FILE.toml] [--section.key VALUE ...] [--out DIR]
//   torus-train --resume DIR [--train.epochs N] [--train.threads T]
// The folder gets config.toml (every setting, resolved), metrics.csv, last.ckpt, best.ckpt and
// the plots. Exit status: 0 done, 1 bad data or files, 2 bad configuration, 3 training stopped.
#include "datasets/image_file.hpp"
#include "nn/io/checkpoint.hpp"
#include "train/trainer.hpp"

#include "train/command_line.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
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
      throw train::ConfigError("--" + key + ": a resumed run keeps its configuration; only --train.epochs and "
                               "--train.threads may change");
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
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Trains a torus (or sphere) embedding network with SupCon and KoLeo into a run folder."};
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
  if (const int status = torus::train::parse_command_line(app, argc, argv); status >= 0) return status;

  train::TrainConfig config;
  train::RunOptions options;
  options.debug = debug;
  options.terminal = isatty(fileno(stderr));
  try {
    if (!resume_dir.empty()) resumed_config(resume_dir, pending, config, options);
    else new_run_config(config_path, out_dir, overwrite, pending, config, options);
    train::validate(config);
    std::fprintf(stderr, "torus-train: %s, %s D%lld, %s, %lld epochs -> %s\n", config.dataset.c_str(), config.head.c_str(),
                 static_cast<long long>(config.dim), config.arch.c_str(), static_cast<long long>(config.epochs),
                 options.dir.c_str());
    const train::RunSummary s = train::train_run(config, options);
    std::printf("{\"run\":\"%s\",\"epochs\":%lld,\"precision_at_1\":%.4f,\"best_precision_at_1\":%.4f,\"best_epoch\":%lld,"
                "\"train_seconds\":%.1f}\n",
                options.dir.c_str(), static_cast<long long>(s.epochs_done), s.last_precision_at_1, s.best_precision_at_1,
                static_cast<long long>(s.best_epoch), s.train_seconds);
    return 0;
  } catch (const train::ConfigError& e) {
    std::fprintf(stderr, "torus-train: configuration: %s\n", e.what());
    return 2;
  } catch (const train::TrainingStopped& e) {
    std::fprintf(stderr, "\ntorus-train: training stopped at %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\ntorus-train: %s\n", e.what());
    return 1;
  }
}
