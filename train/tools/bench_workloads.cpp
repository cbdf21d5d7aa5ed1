#include "train/tools/bench_workloads.hpp"

#include "datasets/idx.hpp"
#include "train/data_source.hpp"

#include <numeric>

namespace torus::tools {

Tensor<float> fmnist_batch(const datasets::ImageSet& set, int64_t first, int64_t count, std::vector<int>& labels) {
  std::vector<int64_t> idx(static_cast<size_t>(count));
  std::iota(idx.begin(), idx.end(), first);
  std::vector<float> pixels;
  datasets::normalized_images(set, idx, train::kFashionMnistMean, train::kFashionMnistStd, pixels);
  labels.assign(set.labels.begin() + first, set.labels.begin() + first + count);
  return Tensor<float>(Shape{count, 1, 28, 28}, pixels);
}

}  // namespace torus::tools
