#include "nn/sgd.hpp"

#include <stdexcept>

namespace torus::nn {

template <typename T>
Sgd<T>::Sgd(NamedParameters<T> params, const SgdOptions& opt) : params_(std::move(params)), opt_(opt) {
  if (!(opt.lr > 0) || opt.momentum < 0 || opt.weight_decay < 0 || (opt.nesterov && opt.momentum == 0)) {
    throw std::invalid_argument("Sgd: need lr > 0, momentum >= 0, weight_decay >= 0, and momentum > 0 for Nesterov");
  }
}

template <typename T>
void Sgd<T>::step() {
  const T lr = T(opt_.lr), mu = T(opt_.momentum), wd = T(opt_.weight_decay);
  for (auto& [name, p] : params_) {
    if (p->grad.shape() != p->value.shape()) continue;  // never reached by a backward pass
    auto g = p->grad.array() + wd * p->value.array();
    if (mu == T(0)) {
      p->value.array() -= lr * g;
      continue;
    }
    auto [it, fresh] = velocity_.try_emplace(name, p->value.shape());
    Tensor<T>& v = it->second;
    if (fresh) v.array() = g;  // PyTorch starts the buffer at the first gradient
    else v.array() = mu * v.array() + g;
    if (opt_.nesterov) p->value.array() -= lr * (g + mu * v.array());
    else p->value.array() -= lr * v.array();
  }
}

template <typename T>
void Sgd<T>::zero_grad() {
  for (auto& [name, p] : params_) p->zero_grad();
}

template class Sgd<float>;
template class Sgd<double>;

}  // namespace torus::nn
