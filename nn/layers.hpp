// Stateless layers as modules, so models can be written as Sequential lists: activations,
// pooling, flattening, and dropout (whose only state is its random stream).
#pragma once

#include "autodiff/ops.hpp"
#include "nn/module.hpp"
#include "nn/pool2d.hpp"

#include <random>

namespace torus::nn {

template <typename T>
struct ReLU : Module<T> {
  Var<T> forward(const Var<T>& x) override { return relu(x); }
};

template <typename T>
struct LeakyReLU : Module<T> {
  explicit LeakyReLU(double slope = 0.01) : slope(slope) {}
  Var<T> forward(const Var<T>& x) override { return leaky_relu(x, slope); }
  double slope;
};

template <typename T>
struct GELU : Module<T> {
  Var<T> forward(const Var<T>& x) override { return gelu(x); }
};

template <typename T>
struct Tanh : Module<T> {
  Var<T> forward(const Var<T>& x) override { return tanh(x); }
};

template <typename T>
struct MaxPool2d : Module<T> {
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0) : kernel(kernel), stride(stride) {}
  Var<T> forward(const Var<T>& x) override { return max_pool2d(x, kernel, stride); }
  int64_t kernel, stride;
};

template <typename T>
struct AvgPool2d : Module<T> {
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0) : kernel(kernel), stride(stride) {}
  Var<T> forward(const Var<T>& x) override { return avg_pool2d(x, kernel, stride); }
  int64_t kernel, stride;
};

template <typename T>
struct GlobalAvgPool : Module<T> {
  Var<T> forward(const Var<T>& x) override { return global_avg_pool(x); }  // (N, C, H, W) -> (N, C)
};

// (N, ...) -> (N, prod ...)
template <typename T>
struct Flatten : Module<T> {
  Var<T> forward(const Var<T>& x) override { return reshape(x, {x.shape()[0], -1}); }
};

// Training: zeroes each element with probability p and scales the rest by 1 / (1 - p) (inverted
// dropout, so evaluation is the identity). The mask stream is seeded, so runs repeat.
template <typename T>
class Dropout : public Module<T> {
 public:
  explicit Dropout(double p, uint64_t seed = 0) : p_(p), rng_(seed) {
    if (!(p >= 0 && p < 1)) throw std::invalid_argument("Dropout: p must be in [0, 1), got " + std::to_string(p));
  }
  Var<T> forward(const Var<T>& x) override {
    if (!this->training_ || p_ == 0) return x;
    Tensor<T> mask(x.shape());
    std::bernoulli_distribution keep(1 - p_);
    const T scale = T(1 / (1 - p_));
    for (int64_t i = 0; i < mask.numel(); ++i) mask[i] = keep(rng_) ? scale : T(0);
    return x * x.tape().constant(std::move(mask));
  }

 private:
  double p_;
  std::mt19937_64 rng_;
};

}  // namespace torus::nn
