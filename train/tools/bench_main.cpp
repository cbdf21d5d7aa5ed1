// torus-bench: the workloads of benchmarks.md on our side, one JSON line each (W1 training step,
// W2 inference, W5 the GEMM ceiling; train/tools/bench_workloads.hpp says what each measures),
// and log-mel feature extraction of an audio folder, uncached then cached (--workload logmel --audio DIR),
// and W6's search on torus codes (--workload search [--refs 60000 1000000]; TORUS_SEARCH_KERNEL forces a path).
//   torus-bench [--workload W1|W2|W5|logmel|search|all] [--threads 1] [--head torusN|sphere] [--profile] ...
// Timings are for comparing against the PyTorch reference run beside it, never for tests.
#include "autodiff/parallel.hpp"
#include "datasets/idx.hpp"
#include "nn/dist/communicator.hpp"
#include "train/tools/bench_cifar_nets.hpp"
#include "train/tools/bench_dist.hpp"
#include "train/tools/bench_workloads.hpp"

#include "train/command_line.hpp"
#include "train/ranks.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <random>

using namespace torus;

int main(int argc, char** argv) {
  // --workload dist runs under mpirun (one rank without it); the others are one process.
  const std::unique_ptr<dist::Session> session = train::start_session("torus-bench", argc, argv);
  if (!session) return 1;
  std::string workload = "all", head = "torusN";
  tools::DistBenchOptions dist_options;
  tools::BenchOptions o;
  std::string data_dir = datasets::kFashionMnistDir;
  CLI::App app{"Runs the benchmarks.md workloads W1 (training step) and W2 (inference) and prints JSON lines."};
  std::string audio_dir;
  std::vector<std::int64_t> search_refs{60000};
  int search_reps = 5;
  app.add_option("--workload", workload,
                 "W1, W2, W5, W7 (ResNet-20), W8 (VGG-11-BN), logmel (needs --audio), search, dist (the data-parallel step, "
                 "under mpirun) or all")
      ->check(CLI::IsMember({"W1", "W2", "W5", "W7", "W8", "logmel", "search", "dist", "all"}))
      ->capture_default_str();
  app.add_option("--audio", audio_dir, "logmel: a folder of recordings in class subfolders (method.md 13's log-mel settings)");
  app.add_option("--threads", o.threads, "thread count")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--head", head, "torusN or sphere")
      ->check(CLI::IsMember(std::vector<std::string>{nn::head_mode_name(nn::HeadMode::torusN),
                                                     nn::head_mode_name(nn::HeadMode::sphere)}))
      ->capture_default_str();
  app.add_option("--steps", o.steps, "timed W1 steps")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--warmup", o.warmup, "untimed W1 steps first")->check(CLI::Range(0, 100000))->capture_default_str();
  app.add_option("--batch", o.batch, "W1 batch")->check(CLI::Range(2, 60000))->capture_default_str();
  app.add_option("--infer-batch", o.infer_batch, "W2 batch")->check(CLI::Range(1, 60000))->capture_default_str();
  app.add_option("--infer-reps", o.infer_reps, "W2 timed repetitions")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--latency-reps", o.latency_reps, "batch-1 timed repetitions")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--data", data_dir, "Fashion-MNIST folder")->capture_default_str();
  app.add_option("--arch", dist_options.arch, "dist: convnet (W1's network) or resnet20 (W7's)")
      ->check(CLI::IsMember({"convnet", "resnet20"}))
      ->capture_default_str();
  app.add_flag("--sync-bn", dist_options.sync_bn, "dist: batch-norm statistics over the global batch");
  app.add_option("--refs", search_refs, "search: reference counts")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
      ->capture_default_str();
  app.add_option("--search-reps", search_reps, "search: timed calls per kind")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_flag("--profile", o.profile, "W1: also print each node's forward and backward time (median over the timed steps) to stderr");
  if (const int status = torus::train::parse_command_line(app, argc, argv); status >= 0) return status;

  set_num_threads(o.threads);
  if (workload == "dist") {
    dist_options.batch = o.batch, dist_options.steps = o.steps, dist_options.warmup = o.warmup, dist_options.threads = o.threads;
    return dist::run_or_abort(session->world(), [&] {
      tools::run_dist_step(session->world(), dist_options);
      return 0;
    });
  }
  if (session->world().size() > 1) {
    std::fprintf(stderr, "torus-bench: only --workload dist runs on several ranks\n");
    return 2;
  }
  if (workload == "W7" || workload == "W8") {
    // Their batch and repetition defaults are the twin's (bench_w7w8.py), not W1's.
    tools::CifarNetBenchOptions c;
    c.workload = workload, c.head = nn::parse_head_mode(head), c.threads = o.threads, c.profile = o.profile;
    if (app.count("--batch")) c.batch = o.batch;
    if (app.count("--steps")) c.steps = o.steps;
    if (app.count("--warmup")) c.warmup = o.warmup;
    if (app.count("--infer-batch")) c.infer_batch = o.infer_batch;
    if (app.count("--infer-reps")) c.infer_reps = o.infer_reps;
    if (app.count("--latency-reps")) c.latency_reps = o.latency_reps;
    tools::run_cifar_net(c);
    return 0;
  }
  if (workload == "W5") {
    tools::run_w5(o.threads);
    return 0;
  }
  if (workload == "search") {
    try {
      tools::run_search(search_refs, 10000, search_reps, o.threads);
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "torus-bench: %s\n", e.what());
      return 1;
    }
  }
  if (workload == "logmel") {
    if (audio_dir.empty()) {
      std::fprintf(stderr, "torus-bench: --workload logmel needs --audio DIR\n");
      return 2;
    }
    try {
      tools::run_logmel(audio_dir, o.threads);
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "torus-bench: %s\n", e.what());
      return 1;
    }
  }
  datasets::ImageSet train;
  try {
    train = datasets::load_fashion_mnist("train", data_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-bench: %s\n(install the Debian package dataset-fashion-mnist, or pass --data)\n", e.what());
    return 1;
  }
  // Batches are cut from the training images: a batch larger than the set would divide by zero
  // batches (W1) or read past the images (W2).
  const bool w1 = workload == "W1" || workload == "all", w2 = workload == "W2" || workload == "all";
  if ((w1 && o.batch > train.n) || (w2 && o.infer_batch > train.n)) {
    std::fprintf(stderr, "torus-bench: --%s %d is more than the %lld images of %s\n", w1 && o.batch > train.n ? "batch" : "infer-batch",
                 w1 && o.batch > train.n ? o.batch : o.infer_batch, static_cast<long long>(train.n), data_dir.c_str());
    return 2;
  }
  o.head = nn::parse_head_mode(head);
  std::mt19937_64 rng(0);
  nn::FmnistConvNet<float> net({o.head, 0, 16, 0, {}}, rng);
  if (workload == "W1" || workload == "all") tools::run_w1(net, train, o);
  if (workload == "W2" || workload == "all") tools::run_w2(net, train, o);
  return 0;
}
