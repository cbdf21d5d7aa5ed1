#include "train/tools/bench_workloads.hpp"

#include "autodiff/parallel.hpp"
#include "datasets/audio_folder.hpp"
#include "datasets/idx.hpp"
#include "geometry/code_search.hpp"
#include "geometry/grid_quantizer.hpp"
#include "geometry/one_bit_codes.hpp"
#include "geometry/uint8_codes.hpp"
#include "nn/models.hpp"
#include "nn/sgd.hpp"
#include "nn/supcon.hpp"
#include "train/data_source.hpp"
#include "train/elapsed.hpp"
#include "train/tools/node_times.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <unistd.h>
#include <numeric>
#include <random>
#include <cmath>

namespace torus::tools {

using train::seconds_since;


Tensor<float> fmnist_batch(const datasets::ImageSet& set, int64_t first, int64_t count, std::vector<int>& labels) {
  std::vector<int64_t> idx(static_cast<size_t>(count));
  std::iota(idx.begin(), idx.end(), first);
  std::vector<float> pixels;
  datasets::normalized_images(set, idx, train::kFashionMnistMean, train::kFashionMnistStd, pixels);
  labels.assign(set.labels.begin() + first, set.labels.begin() + first + count);
  return Tensor<float>(Shape{count, 1, 28, 28}, pixels);
}

void run_w1(nn::FmnistConvNet<float>& net, const datasets::ImageSet& train, const BenchOptions& o) {
  nn::Sgd<float> sgd(net.parameters(), {0.05, 0.9, false, 0.0});
  nn::SupConOptions supcon;
  supcon.temperature = supcon.base_temperature = 0.1;  // benchmarks.md: no base-temperature factor
  const int64_t batches = train.n / o.batch;
  std::vector<int> labels;
  Tape<float> tape;
  Tensor<float> x;
  const auto next_batch = [&](int it) { x = fmnist_batch(train, (it % batches) * o.batch, o.batch, labels); };
  const StepTimes t = time_training_steps(tape, o.warmup, o.steps, o.profile, next_batch, [&](int) {
    tape.clear();
    sgd.zero_grad();
    const Var<float> z = net(tape.constant(x));
    const auto cf = nn::contrastive_features(z, o.head);
    const Var<float> loss = nn::supcon_loss(cf.f, labels, 1, cf.scale, supcon).loss;
    tape.backward(loss);
    sgd.step();
    return double(loss.value().item());
  });
  const double ms = t.median_ms();
  std::printf("{\"workload\":\"W1\",\"threads\":%d,\"batch\":%d,\"head\":\"%s\",\"steps\":%zu,\"images_per_s\":%.1f,"
              "\"ms_per_step\":%.3f,\"first_loss\":%.4f,\"last_loss\":%.4f}\n",
              o.threads, o.batch, nn::head_mode_name(o.head), t.seconds.size(), o.batch / (ms / 1e3), ms, t.first_loss, t.last_loss);
  std::fflush(stdout);
}

void run_w2(nn::FmnistConvNet<float>& net, const datasets::ImageSet& train, const BenchOptions& o) {
  Tape<float> tape;
  NoGradGuard<float> no_grad(tape);
  std::vector<int> labels;
  // median seconds of one forward pass of x over `reps` runs after `warm` untimed ones
  const auto forward_seconds = [&](const Tensor<float>& x, int warm, int reps) {
    std::vector<double> times;
    for (int it = 0; it < warm + reps; ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      tape.clear();
      net(tape.constant(x));
      if (it >= warm) times.push_back(seconds_since(t0));
    }
    return median(times);
  };
  const double batch_s = forward_seconds(fmnist_batch(train, 0, o.infer_batch, labels), 3, o.infer_reps);
  std::printf("{\"workload\":\"W2-throughput\",\"threads\":%d,\"batch\":%d,\"head\":\"%s\",\"images_per_s\":%.1f}\n", o.threads,
              o.infer_batch, nn::head_mode_name(o.head), o.infer_batch / batch_s);
  const double one_s = forward_seconds(fmnist_batch(train, 0, 1, labels), 100, o.latency_reps);
  std::printf("{\"workload\":\"W2-latency\",\"threads\":%d,\"batch\":1,\"head\":\"%s\",\"median_us\":%.1f}\n", o.threads,
              nn::head_mode_name(o.head), 1e6 * one_s);
}

void run_w5(int threads) {
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
}

namespace {
// (n, 16) N(0, 1) entries with each (cos, sin) pair normalised: W6's random torusN vectors.
geometry::RowMatrix<float> random_torus_vectors(std::int64_t n, std::mt19937_64& rng) {
  std::normal_distribution<float> normal;
  geometry::RowMatrix<float> z(n, 16);
  for (std::int64_t i = 0; i < n; ++i) {
    for (int p = 0; p < 8; ++p) {
      const float a = normal(rng), b = normal(rng), norm = std::max(std::sqrt(a * a + b * b), 1e-12f);
      z(i, 2 * p) = a / norm;
      z(i, 2 * p + 1) = b / norm;
    }
  }
  return z;
}
}  // namespace

void run_search(const std::vector<std::int64_t>& ref_counts, std::int64_t nq, int reps, int threads) {
  using namespace geometry;
  const char* kernel = search_kernel_name(resolve_search_kernel(SearchKernel::fastest));
  for (const std::int64_t nb : ref_counts) {
    std::mt19937_64 rng(0);
    const RowMatrix<float> refs = random_torus_vectors(nb, rng), queries = random_torus_vectors(nq, rng);
    const KnnResult<float> exact = knn_inner_product(queries, refs, 1, threads);
    const CodeMatrix rc = torusN_codes<float>(refs), qc = torusN_codes<float>(queries);
    const GridQuantizer grid = GridQuantizer::fit<float>(torusN_one_bit_space<float>(refs), 1);
    const BitCodeMatrix rb = one_bit_codes<float>(grid, torusN_one_bit_space<float>(refs));
    const BitCodeMatrix qb = one_bit_codes<float>(grid, torusN_one_bit_space<float>(queries));
    const CosineLut lut;
    const auto report = [&](const char* kind, const auto& search) {
      RowMatrix<std::int64_t> ids = search().indices;  // warm-up
      std::vector<double> times;
      for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        ids = search().indices;
        times.push_back(seconds_since(t0));
      }
      const double recall = (ids.col(0).array() == exact.indices.col(0).array()).cast<double>().mean();
      std::printf("{\"workload\":\"search\",\"kernel\":\"%s\",\"kind\":\"%s\",\"nb\":%lld,\"nq\":%lld,\"threads\":%d,"
                  "\"qps\":%.0f,\"recall_at_1\":%.4f}\n",
                  kernel, kind, static_cast<long long>(nb), static_cast<long long>(nq), threads, double(nq) / median(times), recall);
      std::fflush(stdout);
    };
    report("u8-lut", [&] { return knn_cosine_lut(qc, rc, lut, 1, threads); });
    report("u8-l1", [&] { return knn_circular_l1(qc, rc, 1, threads); });
    report("u8-dot", [&] { return knn_cosine_dot(qc, rc, lut, 1, threads); });
    report("1bit", [&] { return knn_hamming(qb, rb, 1, threads); });
  }
}

void run_logmel(const std::string& audio_dir, int threads) {
  datasets::AudioFolderOptions o;  // method.md 13's defaults
  o.threads = threads;
  o.cache_dir = (std::filesystem::temp_directory_path() / ("torus-bench-logmel-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(o.cache_dir);
  auto t0 = std::chrono::steady_clock::now();
  const datasets::AudioFolder cold = datasets::load_audio_folder(audio_dir, o);
  const double uncached = train::seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const datasets::AudioFolder warm = datasets::load_audio_folder(audio_dir, o);
  const double cached = train::seconds_since(t0);
  std::filesystem::remove_all(o.cache_dir);
  double seconds_of_sound = 0;
  for (size_t i = 0; i < cold.spectrograms.size(); ++i) seconds_of_sound += double(cold.frames(i) - 1) * o.mel.hop / o.mel.sample_rate;
  std::printf("{\"workload\":\"logmel\",\"impl\":\"torus\",\"threads\":%d,\"clips\":%lld,\"seconds_of_sound\":%.1f,"
              "\"uncached_clips_per_s\":%.1f,\"cached_clips_per_s\":%.1f,\"cache_hits\":%lld}\n",
              threads, static_cast<long long>(cold.size()), seconds_of_sound, double(cold.size()) / uncached,
              double(warm.size()) / cached, static_cast<long long>(warm.cache_hits));
}

}  // namespace torus::tools
