#include "train/tools/bench_cifar_nets.hpp"

#include "autodiff/parallel.hpp"
#include "nn/contrastive_features.hpp"
#include "nn/models.hpp"
#include "nn/sgd.hpp"
#include "nn/supcon.hpp"
#include "train/elapsed.hpp"
#include "train/tools/node_times.hpp"

#include <cstdio>
#include <random>

namespace torus::tools {

using train::seconds_since;

namespace {
std::unique_ptr<nn::Network<float>> make_net(const CifarNetBenchOptions& o, std::mt19937_64& rng) {
  const nn::OutputSpec out = nn::OutputSpec::embedding(o.head, 16);
  if (o.workload == "W7") return nn::make_resnet20<float>(3, 16, out, rng);
  if (o.workload == "W8") return nn::make_vgg11_bn<float>(3, {64, 128, 256, 512}, false, out, rng);
  throw std::invalid_argument("workload " + o.workload + ": expected W7 or W8");
}

Tensor<float> random_images(int64_t count, std::mt19937_64& rng) {
  std::normal_distribution<float> pixel;
  std::vector<float> x(size_t(count * 3 * 32 * 32));
  for (float& v : x) v = pixel(rng);
  return Tensor<float>(Shape{count, 3, 32, 32}, x);
}
}  // namespace

void run_cifar_net(const CifarNetBenchOptions& o) {
  set_num_threads(o.threads);
  std::mt19937_64 rng(0);
  const std::unique_ptr<nn::Network<float>> net = make_net(o, rng);
  const char* head = nn::head_mode_name(o.head);
  // Four batches cycled, as the twin does.
  std::vector<Tensor<float>> batches;
  std::vector<std::vector<int>> labels(4);
  std::uniform_int_distribution<int> label(0, 9);
  for (int b = 0; b < 4; ++b) {
    batches.push_back(random_images(o.batch, rng));
    for (int i = 0; i < o.batch; ++i) labels[size_t(b)].push_back(label(rng));
  }
  {
    nn::Sgd<float> sgd(net->parameters(), {0.05, 0.9, false, 0.0});
    nn::SupConOptions supcon;
    supcon.temperature = supcon.base_temperature = 0.1;  // benchmarks.md: no base-temperature factor
    net->set_training(true);
    Tape<float> tape;
    const StepTimes t = time_training_steps(tape, o.warmup, o.steps, o.profile, [](int) {}, [&](int it) {
      tape.clear();
      sgd.zero_grad();
      const Var<float> z = net->forward(tape.constant(batches[size_t(it % 4)]));
      const auto cf = nn::contrastive_features(z, o.head);
      const Var<float> loss = nn::supcon_loss(cf.f, labels[size_t(it % 4)], 1, cf.scale, supcon).loss;
      tape.backward(loss);
      sgd.step();
      return double(loss.value().item());
    });
    const double ms = t.median_ms();
    std::printf("{\"workload\":\"%s\",\"threads\":%d,\"batch\":%d,\"head\":\"%s\",\"steps\":%zu,\"images_per_s\":%.1f,"
                "\"ms_per_step\":%.3f,\"first_loss\":%.4f,\"last_loss\":%.4f}\n",
                o.workload.c_str(), o.threads, o.batch, head, t.seconds.size(), o.batch / (ms / 1e3), ms, t.first_loss, t.last_loss);
    std::fflush(stdout);
  }
  net->set_training(false);
  Tape<float> tape;
  NoGradGuard<float> no_grad(tape);
  const auto forward_seconds = [&](const Tensor<float>& x, int warm, int reps) {
    std::vector<double> times;
    for (int it = 0; it < warm + reps; ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      tape.clear();
      net->forward(tape.constant(x));
      if (it >= warm) times.push_back(seconds_since(t0));
    }
    return median(times);
  };
  const double batch_s = forward_seconds(random_images(o.infer_batch, rng), 2, o.infer_reps);
  std::printf("{\"workload\":\"%s-throughput\",\"threads\":%d,\"batch\":%d,\"head\":\"%s\",\"images_per_s\":%.1f}\n",
              o.workload.c_str(), o.threads, o.infer_batch, head, o.infer_batch / batch_s);
  std::fflush(stdout);
  const double one_s = forward_seconds(random_images(1, rng), 30, o.latency_reps);
  std::printf("{\"workload\":\"%s-latency-b1\",\"threads\":%d,\"head\":\"%s\",\"latency_us\":%.1f}\n", o.workload.c_str(),
              o.threads, head, 1e6 * one_s);
  std::fflush(stdout);
}

}  // namespace torus::tools
