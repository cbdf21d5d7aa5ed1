#include "nn/sgd.hpp"

#include <stdexcept>

namespace torus::nn {

template <typename T>
Sgd<T>::Sgd(NamedParameters<T> params, const SgdOptions& opt) : Optimizer<T>(std::move(params)), opt_(opt) {
  if (!(opt.lr > 0) || opt.momentum < 0 || opt.weight_decay < 0 || (opt.nesterov && opt.momentum == 0)) {
    throw std::invalid_argument("Sgd: need lr > 0, momentum >= 0, weight_decay >= 0, and momentum > 0 for Nesterov");
  }
}

template <typename T>
void Sgd<T>::update() {
  const T lr = T(opt_.lr), mu = T(opt_.momentum), wd = T(opt_.weight_decay);
  for (auto& [name, p] : this->params_) {
    if (!this->reached(*p)) continue;
    auto g = p->grad.array() + wd * p->value.array();
    if (mu == T(0)) {
      p->value.array() -= lr * g;
      continue;
    }
    bool fresh = false;
    Tensor<T>& v = this->slot(name, ".momentum", *p, &fresh);
    if (fresh) v.array() = g;  // PyTorch starts the buffer at the first gradient
    else v.array() = mu * v.array() + g;
    if (opt_.nesterov) p->value.array() -= lr * (g + mu * v.array());
    else p->value.array() -= lr * v.array();
  }
}

template class Sgd<float>;
template class Sgd<double>;

}  // namespace torus::nn
