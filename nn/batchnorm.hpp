// Batch normalisation over the channel axis of (N, C) or (N, C, H, W) tensors: the primitive
// batch_norm with its hand-written backward, and the BatchNorm module (BatchNorm1d / 2d in one).
// Training: normalise with the batch mean and biased variance, and move the running statistics
// by `momentum` towards the batch mean and the unbiased variance (PyTorch's convention).
// Evaluation: normalise with the running statistics; the op is then affine in x.
// Sync batch norm (PyTorch's SyncBatchNorm): with a communicator, training statistics are those of
// every rank's batch together, forward and backward; without one (the default) each rank's own.
#pragma once

#include "nn/module.hpp"

namespace torus::nn {

// y = gamma (x - mean) / sqrt(var + eps) + beta per channel. In training mode, running_mean and
// running_var (C) are updated in place; in evaluation mode they are used. `sync`: in training, the
// mean and variance over every rank's x (collective: every rank calls it, and runs its backward).
template <typename T>
Var<T> batch_norm(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, Tensor<T>& running_mean,
                  Tensor<T>& running_var, bool training, double momentum = 0.1, double eps = 1e-5,
                  const dist::Communicator* sync = nullptr);

template <typename T>
class BatchNorm : public Module<T> {
 public:
  explicit BatchNorm(int64_t channels, double momentum = 0.1, double eps = 1e-5);
  Var<T> forward(const Var<T>& x) override;  // (N, C) or (N, C, H, W)
  NamedParameters<T> parameters() override;  // weight (gamma, ones), bias (beta, zeros)
  NamedBuffers<T> buffers() override;        // running_mean (zeros), running_var (ones)
  void set_batch_norm_sync(const dist::Communicator* comm) override { sync = comm; }

  Parameter<T> weight, bias;
  Tensor<T> running_mean, running_var;
  double momentum, eps;
  const dist::Communicator* sync = nullptr;  // statistics over these ranks; null: this rank's batch
};

extern template class BatchNorm<float>;
extern template class BatchNorm<double>;

}  // namespace torus::nn
