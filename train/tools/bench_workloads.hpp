// torus-bench's workloads (benchmarks.md), one function each, each printing one JSON line per
// result on stdout:
//   W1  training step of FmnistConvNet (batch 256 of Fashion-MNIST, single-view SupCon, tau 0.1,
//       scale D/2 for torusN or 1 for the sphere, no base-temperature factor, SGD lr 0.05 momentum
//       0.9): images per second, median over the timed steps after the warm-up.
//   W2  inference: forward only, batch 1024 (images per second) and batch-1 latency (microseconds,
//       median of 2000 after 100 warm-up).
//   W5  the GEMM ceiling: Eigen float GEMM in GFLOP/s for 1024^3 and for the per-image products
//       conv2d runs (forward W cols, and the two backward products), at the given thread count.
//   search  W6's exact k = 1 search on torus codes: 10,000 queries against N random torusN D16
//       vectors (N(0, 1) entries, each pair normalised; K = 8 circles), by the uint8 cosine LUT,
//       circular L1 and cos/sin dot product and by 1-bit Hamming (the 1bit index's grid), with
//       the kernel path TORUS_SEARCH_KERNEL chooses: queries per second (median of the timed
//       calls, each a whole knn_* call, index layout included) and recall@1 against the exact
//       float inner-product search.
// The batches are normalised as every Fashion-MNIST training run is. Timings are reports for
// comparing against the PyTorch reference run beside them, never inputs to a test.
#pragma once

#include "autodiff/tensor.hpp"
#include "datasets/image_set.hpp"
#include "nn/models.hpp"
#include "nn/head_mode.hpp"

#include <cstdint>
#include <vector>

namespace torus::tools {

struct BenchOptions {
  nn::HeadMode head = nn::HeadMode::torusN;
  int threads = 1;
  int steps = 40, warmup = 5, batch = 256;                          // W1
  int infer_batch = 1024, infer_reps = 20, latency_reps = 2000;  // W2
  bool profile = false;  // W1: each tape node's forward and backward time to stderr
};

// Images [first, first + count) of `set` as a (count, 1, 28, 28) batch normalised by
// train::kFashionMnistMean / kFashionMnistStd; `labels` gets their labels.
Tensor<float> fmnist_batch(const datasets::ImageSet& set, int64_t first, int64_t count, std::vector<int>& labels);

// W1 trains `net` (so W2 after it, as in `--workload all`, times the trained network).
void run_w1(nn::FmnistConvNet<float>& net, const datasets::ImageSet& train, const BenchOptions& options);
void run_w2(nn::FmnistConvNet<float>& net, const datasets::ImageSet& train, const BenchOptions& options);
void run_w5(int threads);
// One JSON line per (reference count, code kind).
void run_search(const std::vector<std::int64_t>& ref_counts, std::int64_t queries, int reps, int threads);

// Log-mel features of every clip of an audio folder (decode, resample, spectrogram) with method.md
// 13's settings, with `threads` workers: once into an empty cache (every clip computed and
// written), then again (every clip read back). Prints one JSON line with clips per second of each.
void run_logmel(const std::string& audio_dir, int threads);

}  // namespace torus::tools
