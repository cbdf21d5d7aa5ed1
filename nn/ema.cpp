#include "nn/ema.hpp"

#include <algorithm>
#include <stdexcept>

namespace torus::nn {

template <typename T>
Ema<T>::Ema(NamedParameters<T> params, double decay, bool use_num_updates)
    : params_(std::move(params)), decay_(decay), use_num_updates_(use_num_updates) {
  if (!(decay >= 0 && decay < 1)) throw std::invalid_argument("Ema: decay must be in [0, 1), got " + std::to_string(decay));
  for (const auto& [name, p] : params_) shadow_.push_back(p->value);
}

template <typename T>
double Ema<T>::current_decay() const {
  // torch_ema increments the count before computing the decay
  const double n = double(updates_ + 1);
  return use_num_updates_ ? std::min(decay_, (1 + n) / (10 + n)) : decay_;
}

template <typename T>
void Ema<T>::update() {
  const T d = T(current_decay());
  ++updates_;
  for (size_t i = 0; i < params_.size(); ++i) shadow_[i].array() = d * shadow_[i].array() + (T(1) - d) * params_[i].second->value.array();
}

template <typename T>
void Ema<T>::swap() {
  for (size_t i = 0; i < params_.size(); ++i) std::swap(shadow_[i], params_[i].second->value);
}

template <typename T>
void Ema<T>::restore(std::vector<Tensor<T>> shadow, int64_t updates) {
  if (shadow.size() != params_.size())
    throw std::invalid_argument("Ema::restore: " + std::to_string(shadow.size()) + " tensors for " +
                                std::to_string(params_.size()) + " parameters");
  for (size_t i = 0; i < params_.size(); ++i)
    if (shadow[i].shape() != params_[i].second->value.shape())
      throw std::invalid_argument("Ema::restore: " + params_[i].first + " has shape " + params_[i].second->value.shape().str() +
                                  ", the average " + shadow[i].shape().str());
  if (updates < 0) throw std::invalid_argument("Ema::restore: negative update count");
  shadow_ = std::move(shadow);
  updates_ = updates;
}

template class Ema<float>;
template class Ema<double>;

}  // namespace torus::nn
