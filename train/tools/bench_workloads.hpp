// torus-bench's workloads (benchmarks.md), as functions the binary strings together: the batches
// they feed the network, normalised as every Fashion-MNIST training run is.
#pragma once

#include "autodiff/tensor.hpp"
#include "datasets/image_set.hpp"

#include <cstdint>
#include <vector>

namespace torus::tools {

// Images [first, first + count) of `set` as a (count, 1, 28, 28) batch normalised by
// train::kFashionMnistMean / kFashionMnistStd; `labels` gets their labels.
Tensor<float> fmnist_batch(const datasets::ImageSet& set, int64_t first, int64_t count, std::vector<int>& labels);

}  // namespace torus::tools
