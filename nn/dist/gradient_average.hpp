// Data-parallel gradient averaging: after backward, every parameter gradient becomes the mean of
// the ranks' gradients, through a few allreduce calls on large contiguous buckets rather than one
// call per tensor (each call pays the network's latency once; 25 MB buckets, PyTorch DDP's
// default, keep that cost small against the bytes moved). Also the start-of-run broadcast that
// makes every rank's parameters and buffers rank 0's.
#pragma once

#include "nn/dist/communicator.hpp"
#include "nn/module.hpp"

namespace torus::dist {

inline constexpr int64_t kDefaultBucketBytes = int64_t(25) << 20;

template <typename T>
class GradientAverager {
 public:
  // Plans the buckets once: parameters in reverse order (the order backward finishes them), each
  // bucket filled up to bucket_bytes (a larger tensor gets a bucket of its own). Collective: throws
  // DistError on every rank when the ranks' parameter lists differ in count or size.
  GradientAverager(const Communicator& comm, nn::NamedParameters<T> params, int64_t bucket_bytes = kDefaultBucketBytes);

  // grad = (sum over ranks of grad) / size, for every parameter; a gradient backward never reached
  // counts as zeros (and is zeros afterwards). Collective; nothing is copied on one rank.
  void average();

  int buckets() const { return int(buckets_.size()); }
  int64_t elements() const { return elements_; }  // gradient elements allreduced per call of average()

 private:
  struct Bucket {
    size_t first, last;  // parameters [first, last) of params_
    int64_t elements;
  };
  const Communicator& comm_;
  nn::NamedParameters<T> params_;  // reverse of the module's order
  std::vector<Bucket> buckets_;
  std::vector<T> staging_;         // (largest bucket) the bucket being reduced
  int64_t elements_ = 0;
};

// Rank root's parameter values and buffers (batch-norm statistics) replace every rank's: call it
// once after building the model (and after loading a checkpoint on root only) so every rank
// starts from the same weights. Collective.
template <typename T>
void broadcast_state(const Communicator& comm, const nn::NamedParameters<T>& params, const nn::NamedBuffers<T>& buffers,
                     int root = 0);

extern template class GradientAverager<float>;
extern template class GradientAverager<double>;

}  // namespace torus::dist
