// torus-bench: the workloads of benchmarks.md on our side, one JSON line each.
//   W1  training step of FmnistConvNet (batch 256 of Fashion-MNIST, single-view SupCon, tau 0.1,
//       scale D/2 for torusN or 1 for the sphere, no base-temperature factor, SGD lr 0.05 momentum
//       0.9): images per second, median over the timed steps after the warm-up.
//   W2  inference: forward only, batch 1024 (images per second) and batch-1 latency (microseconds,
//       median of 2000 after 100 warm-up).
//   W5  the GEMM ceiling: Eigen float GEMM in GFLOP/s for 1024^3 and for the per-image products
//       conv2d runs (forward W cols, and the two backward products), at the given thread count.
// Timings are for comparing against ../shared/bench/run.sh w1w2 run beside it, never for tests.
#include "autodiff/parallel.hpp"

#include <Eigen/Core>
#include "datasets/idx.hpp"
#include "nn/fmnist_convnet.hpp"
#include "nn/sgd.hpp"
#include "nn/supcon.hpp"
#include "train/elapsed.hpp"
#include "train/tools/bench_workloads.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

using namespace torus;
using train::seconds_since;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

int main(int argc, char** argv) {
  std::string workload = "all", head = "torusN";
  int threads = 1, steps = 40, warmup = 5, batch = 256, infer_batch = 1024, infer_reps = 20, latency_reps = 2000;
  std::string data_dir = datasets::kFashionMnistDir;
  bool profile = false;
  CLI::App app{"Runs the benchmarks.md workloads W1 (training step) and W2 (inference) and prints JSON lines."};
  app.add_option("--workload", workload, "W1, W2, W5 or all")->check(CLI::IsMember({"W1", "W2", "W5", "all"}))->capture_default_str();
  app.add_option("--threads", threads, "thread count")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--head", head, "torusN or sphere")->check(CLI::IsMember(std::vector<std::string>{nn::head_mode_name(nn::HeadMode::torusN),
                                                       nn::head_mode_name(nn::HeadMode::sphere)}))->capture_default_str();
  app.add_option("--steps", steps, "timed W1 steps")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--warmup", warmup, "untimed W1 steps first")->check(CLI::Range(0, 100000))->capture_default_str();
  app.add_option("--batch", batch, "W1 batch")->check(CLI::Range(2, 60000))->capture_default_str();
  app.add_option("--infer-batch", infer_batch, "W2 batch")->check(CLI::Range(1, 60000))->capture_default_str();
  app.add_option("--infer-reps", infer_reps, "W2 timed repetitions")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--latency-reps", latency_reps, "batch-1 timed repetitions")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--data", data_dir, "Fashion-MNIST folder")->capture_default_str();
  app.add_flag("--profile", profile, "W1: also print each node's forward and backward time (median over the timed steps) to stderr");
  CLI11_PARSE(app, argc, argv);

  set_num_threads(threads);
  if (workload == "W5") {
    using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    auto gflops = [](int64_t m, int64_t k, int64_t n, int reps, auto&& run) {
      run();
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) run();
      return 2.0 * double(m * k * n) * reps / seconds_since(t0) / 1e9;
    };
    M a = M::Random(1024, 1024), b = M::Random(1024, 1024), c(1024, 1024);
    const double big = gflops(1024, 1024, 1024, 10, [&] { c.noalias() = a * b; });
    // conv2 of FmnistConvNet: O 64, C k k 288, pixels 196, one product per image, images across threads
    const int images = 256;
    std::vector<M> w(threads, M::Random(64, 288)), cols(threads, M::Random(288, 196)), out(threads, M(64, 196)),
        dw(threads, M(64, 288)), dcols(threads, M(288, 196));
    auto per_image = [&](auto&& product) {
      return gflops(64, 288, int64_t(196) * images, 5, [&] {
        parallel_chunks(images, threads, [&](int t, int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) product(t);
        });
      });
    };
    const double fwd = per_image([&](int t) { out[t].noalias() = w[t] * cols[t]; });
    const double bwd_w = per_image([&](int t) { dw[t].noalias() += out[t] * cols[t].transpose(); });
    const double bwd_x = per_image([&](int t) { dcols[t].noalias() = w[t].transpose() * out[t]; });
    std::printf("{\"workload\":\"W5\",\"threads\":%d,\"gemm_1024_gflops\":%.1f,\"conv2_forward_gflops\":%.1f,"
                "\"conv2_dweight_gflops\":%.1f,\"conv2_dinput_gflops\":%.1f}\n",
                threads, big, fwd, bwd_w, bwd_x);
    return 0;
  }
  datasets::ImageSet train;
  try {
    train = datasets::load_fashion_mnist("train", data_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-bench: %s\n(install the Debian package dataset-fashion-mnist, or pass --data)\n", e.what());
    return 1;
  }
  const nn::HeadMode mode = nn::parse_head_mode(head);
  std::mt19937_64 rng(0);
  nn::FmnistConvNet<float> net({mode, 0, 16, 0, {}}, rng);
  std::vector<int> labels;

  if (workload == "W1" || workload == "all") {
    nn::Sgd<float> sgd(net.parameters(), {0.05, 0.9, false, 0.0});
    nn::SupConOptions supcon;
    supcon.temperature = supcon.base_temperature = 0.1;  // benchmarks.md: no base-temperature factor
    const int64_t batches = train.n / batch;
    std::vector<double> times;
    double first_loss = 0, last_loss = 0;
    Tape<float> tape;
    tape.set_profiling(profile);
    std::vector<std::vector<double>> node_forward, node_backward;  // [node][step]
    for (int it = 0; it < warmup + steps; ++it) {
      const Tensor<float> x = tools::fmnist_batch(train, (it % batches) * batch, batch, labels);
      const auto t0 = std::chrono::steady_clock::now();
      tape.clear();
      sgd.zero_grad();
      const Var<float> z = net(tape.constant(x));
      const auto cf = nn::contrastive_features(z, mode);
      const Var<float> loss = nn::supcon_loss(cf.f, labels, 1, cf.scale, supcon).loss;
      tape.backward(loss);
      sgd.step();
      const double dt = seconds_since(t0);
      if (it >= warmup) {
        times.push_back(dt);
        (times.size() == 1 ? first_loss : last_loss) = loss.value().item();
        if (profile) {
          node_forward.resize(tape.size());
          node_backward.resize(tape.size());
          for (int id = 0; id < tape.size(); ++id) {
            node_forward[id].push_back(tape.node(id).forward_seconds);
            node_backward[id].push_back(tape.node(id).backward_seconds);
          }
        }
      }
    }
    if (profile) {
      std::fprintf(stderr, "%4s  %-20s %-22s %10s %10s\n", "node", "op", "output", "fwd ms", "bwd ms");
      double total_f = 0, total_b = 0;
      for (int id = 0; id < tape.size(); ++id) {
        const double f = 1e3 * median(node_forward[id]), b = 1e3 * median(node_backward[id]);
        total_f += f;
        total_b += b;
        if (f + b < 0.05) continue;  // leaves and trivial nodes
        std::fprintf(stderr, "%4d  %-20s %-22s %10.2f %10.2f\n", id, tape.node(id).op, tape.node(id).value.shape().str().c_str(), f, b);
      }
      std::fprintf(stderr, "total of node medians: forward %.2f ms, backward %.2f ms (step median %.2f ms)\n", total_f, total_b,
                   1e3 * median(times));
    }
    const double ms = 1e3 * median(times);
    std::printf("{\"workload\":\"W1\",\"threads\":%d,\"batch\":%d,\"head\":\"%s\",\"steps\":%zu,\"images_per_s\":%.1f,"
                "\"ms_per_step\":%.3f,\"first_loss\":%.4f,\"last_loss\":%.4f}\n",
                threads, batch, head.c_str(), times.size(), batch / (ms / 1e3), ms, first_loss, last_loss);
    std::fflush(stdout);
  }

  if (workload == "W2" || workload == "all") {
    Tape<float> tape;
    NoGradGuard<float> no_grad(tape);
    const Tensor<float> x = tools::fmnist_batch(train, 0, infer_batch, labels);
    std::vector<double> times;
    for (int it = 0; it < 3 + infer_reps; ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      tape.clear();
      net(tape.constant(x));
      if (it >= 3) times.push_back(seconds_since(t0));
    }
    std::printf("{\"workload\":\"W2-throughput\",\"threads\":%d,\"batch\":%d,\"head\":\"%s\",\"images_per_s\":%.1f}\n", threads,
                infer_batch, head.c_str(), infer_batch / median(times));
    const Tensor<float> one = tools::fmnist_batch(train, 0, 1, labels);
    std::vector<double> lat;
    for (int it = 0; it < 100 + latency_reps; ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      tape.clear();
      net(tape.constant(one));
      if (it >= 100) lat.push_back(seconds_since(t0));
    }
    std::printf("{\"workload\":\"W2-latency\",\"threads\":%d,\"batch\":1,\"head\":\"%s\",\"median_us\":%.1f}\n", threads, head.c_str(),
                1e6 * median(lat));
  }
  return 0;
}
