#include "train/tools/bench_dist.hpp"

#include "autodiff/parallel.hpp"
#include "datasets/batch_part.hpp"
#include "nn/contrastive_features.hpp"
#include "nn/dist/global_batch.hpp"
#include "nn/dist/gradient_average.hpp"
#include "nn/models.hpp"
#include "nn/sgd.hpp"
#include "train/elapsed.hpp"
#include "train/tools/node_times.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

namespace torus::tools {

using train::seconds_since;

void run_dist_step(const dist::Communicator& world, const DistBenchOptions& o) {
  set_num_threads(o.threads);
  // The same weights on every rank (one seed); inputs are random images with ten classes: the
  // step's cost does not depend on what the pixels show.
  std::mt19937_64 rng(0);
  std::unique_ptr<nn::Module<float>> net;
  std::vector<int64_t> image;
  if (o.arch == "convnet") {
    net = std::make_unique<nn::FmnistConvNet<float>>(nn::EmbeddingHeadConfig{nn::HeadMode::torusN, 0, 16, 0, {}}, rng);
    image = {1, 28, 28};
  } else if (o.arch == "resnet20") {
    net = nn::make_resnet20<float>(3, 16, nn::OutputSpec::embedding(nn::HeadMode::torusN, 16), rng);
    image = {3, 32, 32};
  } else {
    throw std::invalid_argument("--arch: convnet or resnet20, got " + o.arch);
  }
  if (o.sync_bn) net->set_batch_norm_sync(&world);
  const nn::NamedParameters<float> params = net->parameters();
  dist::GradientAverager<float> averager(world, params);
  nn::Sgd<float> sgd(params, {0.05, 0.9, false, 0.0});
  nn::SupConOptions supcon;
  supcon.temperature = supcon.base_temperature = 0.1;

  const datasets::BatchPart mine = datasets::batch_part(o.batch, world.rank(), world.size());
  const int64_t pixels = image[0] * image[1] * image[2];
  std::mt19937_64 data_rng(1 + uint64_t(world.rank()));
  std::normal_distribution<float> pixel;
  std::vector<float> x(size_t(mine.count * pixels));
  for (float& v : x) v = pixel(data_rng);
  std::vector<int> labels(size_t(mine.count));
  for (int64_t i = 0; i < mine.count; ++i) labels[size_t(i)] = int((mine.first + i) % 10);

  Tape<float> tape;
  std::vector<double> step, wait, reduce, gather;
  double first_loss = 0, last_loss = 0;
  int64_t reduce_bytes = 0, gather_bytes = 0;
  for (int it = 0; it < o.warmup + o.steps; ++it) {
    const dist::TrafficStats before = world.traffic();
    const auto t0 = std::chrono::steady_clock::now();
    tape.clear();
    sgd.zero_grad();
    std::vector<int64_t> dims = {mine.count};
    dims.insert(dims.end(), image.begin(), image.end());
    const Var<float> z = net->forward(tape.constant(Tensor<float>(Shape(dims), x)));
    const auto cf = nn::contrastive_features(z, nn::HeadMode::torusN);
    const auto loss = dist::global_supcon_koleo(world, cf.f, labels, 1, cf.scale, supcon, 0.0);
    tape.backward(loss.loss);
    const auto t_wait = std::chrono::steady_clock::now();
    world.barrier();
    const double waited = seconds_since(t_wait);
    const dist::TrafficStats mid = world.traffic();
    averager.average();
    sgd.step();
    const double dt = seconds_since(t0);
    const dist::TrafficStats& after = world.traffic();
    if (it < o.warmup) continue;
    step.push_back(dt);
    wait.push_back(waited);
    reduce.push_back(after.allreduce.seconds - mid.allreduce.seconds);
    // The all-gathers of the features and the allreduce in the all-gather's backward.
    gather.push_back(mid.allgather.seconds - before.allgather.seconds + mid.allreduce.seconds - before.allreduce.seconds);
    reduce_bytes = after.allreduce.bytes - mid.allreduce.bytes;
    gather_bytes = mid.allgather.bytes - before.allgather.bytes + mid.allreduce.bytes - before.allreduce.bytes;
    (step.size() == 1 ? first_loss : last_loss) = loss.loss.value().item();
  }
  const double ms = 1e3 * median(step);
  if (world.rank() == 0)
    std::printf("{\"workload\":\"dist-step\",\"arch\":\"%s\",\"ranks\":%d,\"threads\":%d,\"batch\":%d,\"sync_bn\":%s,"
                "\"steps\":%zu,\"images_per_s\":%.1f,\"ms_per_step\":%.3f,\"ms_waiting\":%.3f,\"ms_gradient_allreduce\":%.3f,"
                "\"ms_forward_backward_collectives\":%.3f,\"bytes_allreduced\":%lld,\"bytes_forward_backward\":%lld,\"parameters\":%lld,"
                "\"first_loss\":%.4f,\"last_loss\":%.4f}\n",
                o.arch.c_str(), world.size(), o.threads, o.batch, o.sync_bn ? "true" : "false", step.size(),
                o.batch / (ms / 1e3), ms, 1e3 * median(wait), 1e3 * median(reduce), 1e3 * median(gather),
                static_cast<long long>(reduce_bytes), static_cast<long long>(gather_bytes),
                static_cast<long long>(averager.elements()), first_loss, last_loss);
  std::fflush(stdout);
}

}  // namespace torus::tools
