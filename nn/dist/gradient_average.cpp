// GradientAverager and broadcast_state.
#include "nn/dist/gradient_average.hpp"

#include <algorithm>

namespace torus::dist {

template <typename T>
GradientAverager<T>::GradientAverager(const Communicator& comm, nn::NamedParameters<T> params, int64_t bucket_bytes)
    : comm_(comm), params_(std::move(params)) {
  if (bucket_bytes < int64_t(sizeof(T)))
    throw std::invalid_argument("GradientAverager: bucket_bytes must hold at least one element, got " + std::to_string(bucket_bytes));
  std::reverse(params_.begin(), params_.end());
  const int64_t capacity = bucket_bytes / int64_t(sizeof(T));
  int64_t largest = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    const int64_t n = params_[i].second->value.numel();
    elements_ += n;
    if (buckets_.empty() || buckets_.back().elements + n > capacity) buckets_.push_back({i, i, 0});
    buckets_.back().last = i + 1;
    buckets_.back().elements += n;
    largest = std::max(largest, buckets_.back().elements);
  }
  staging_.resize(size_t(comm.size() > 1 ? largest : 0));
  const std::vector<int64_t> counts = comm.allgather_value(int64_t(params_.size()));
  const std::vector<int64_t> sizes = comm.allgather_value(elements_);
  for (int r = 0; r < comm.size(); ++r)
    if (counts[size_t(r)] != counts[0] || sizes[size_t(r)] != sizes[0])
      throw DistError("GradientAverager: rank " + std::to_string(r) + " has " + std::to_string(counts[size_t(r)]) +
                      " parameters of " + std::to_string(sizes[size_t(r)]) + " elements, rank 0 has " +
                      std::to_string(counts[0]) + " of " + std::to_string(sizes[0]) + " (every rank must build the same model)");
}

template <typename T>
void GradientAverager<T>::average() {
  if (comm_.size() == 1) return;
  const T inverse_size = T(1) / T(comm_.size());
  for (const Bucket& b : buckets_) {
    T* at = staging_.data();
    for (size_t i = b.first; i < b.last; ++i) {
      Parameter<T>& p = *params_[i].second;
      if (p.grad.shape() != p.value.shape()) p.zero_grad();
      std::copy(p.grad.data(), p.grad.data() + p.grad.numel(), at);
      at += p.grad.numel();
    }
    comm_.allreduce_sum(std::span<T>(staging_.data(), size_t(b.elements)));
    at = staging_.data();
    for (size_t i = b.first; i < b.last; ++i) {
      Parameter<T>& p = *params_[i].second;
      p.grad.array() = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(at, p.grad.numel()) * inverse_size;
      at += p.grad.numel();
    }
  }
}

template <typename T>
void broadcast_state(const Communicator& comm, const nn::NamedParameters<T>& params, const nn::NamedBuffers<T>& buffers,
                     int root) {
  if (comm.size() == 1) return;
  for (const auto& [name, p] : params) comm.broadcast(std::span<T>(p->value.data(), size_t(p->value.numel())), root);
  for (const auto& [name, b] : buffers) comm.broadcast(std::span<T>(b->data(), size_t(b->numel())), root);
}

template class GradientAverager<float>;
template class GradientAverager<double>;
template void broadcast_state(const Communicator&, const nn::NamedParameters<float>&, const nn::NamedBuffers<float>&, int);
template void broadcast_state(const Communicator&, const nn::NamedParameters<double>&, const nn::NamedBuffers<double>&, int);

}  // namespace torus::dist
