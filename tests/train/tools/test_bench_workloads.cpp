// torus-bench feeds its workloads Fashion-MNIST normalised by the same constant as a training run:
// its batch equals the training run's evaluation inputs of the same images.
#include <catch2/catch.hpp>

#include "train/data_source.hpp"
#include "train/tools/bench_workloads.hpp"

using namespace torus;

TEST_CASE("torus-bench's Fashion-MNIST batch is a training run's input", "[tools][single-path]") {
  datasets::ImageSet set;
  set.n = 3, set.channels = 1, set.height = 28, set.width = 28, set.classes = 10;
  set.pixels.resize(size_t(3 * 28 * 28));
  for (size_t i = 0; i < set.pixels.size(); ++i) set.pixels[i] = uint8_t((i * 37) % 256);
  set.labels = {4, 0, 9};
  train::TrainConfig config;
  config.dataset = "fashion-mnist";
  const datasets::AugmentConfig normalization = train::dataset_normalization(config);
  CHECK(normalization.mean == std::vector<float>{train::kFashionMnistMean});
  CHECK(normalization.std == std::vector<float>{train::kFashionMnistStd});

  train::Split split;
  split.images = set;
  std::vector<float> run_inputs;
  split.inputs(1, 2, normalization, run_inputs);
  std::vector<int> labels;
  const Tensor<float> bench = tools::fmnist_batch(set, 1, 2, labels);
  CHECK(labels == std::vector<int>{0, 9});
  REQUIRE(bench.numel() == int64_t(run_inputs.size()));
  for (int64_t i = 0; i < bench.numel(); ++i) {
    INFO("pixel " << i);
    CHECK(bench[i] == Approx(run_inputs[size_t(i)]).margin(1e-5));
  }
}
