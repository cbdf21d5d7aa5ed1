#include "nn/adam.hpp"

#include <cmath>
#include <stdexcept>

namespace torus::nn {

template <typename T>
Adam<T>::Adam(NamedParameters<T> params, const AdamOptions& opt) : Optimizer<T>(std::move(params)), opt_(opt) {
  if (!(opt.lr > 0) || !(opt.beta1 >= 0 && opt.beta1 < 1) || !(opt.beta2 >= 0 && opt.beta2 < 1) || !(opt.eps > 0) ||
      opt.weight_decay < 0) {
    throw std::invalid_argument("Adam: need lr > 0, betas in [0, 1), eps > 0, weight_decay >= 0");
  }
}

template <typename T>
void Adam<T>::update() {
  const double t = double(this->steps_);
  const T lr = T(opt_.lr), b1 = T(opt_.beta1), b2 = T(opt_.beta2), eps = T(opt_.eps), wd = T(opt_.weight_decay);
  // bias corrections in double: b^t underflows gracefully and stays exact for small t
  const T c1 = T(1 - std::pow(opt_.beta1, t)), c2 = T(1 - std::pow(opt_.beta2, t));
  for (auto& [name, p] : this->params_) {
    if (!this->reached(*p)) continue;
    Tensor<T>& m = this->slot(name, ".exp_avg", *p);
    Tensor<T>& v = this->slot(name, ".exp_avg_sq", *p);
    if (opt_.decoupled) p->value.array() *= T(1) - lr * wd;
    const auto g = p->grad.array() + (opt_.decoupled ? T(0) : wd) * p->value.array();
    m.array() = b1 * m.array() + (T(1) - b1) * g;
    v.array() = b2 * v.array() + (T(1) - b2) * g * g;
    p->value.array() -= lr * (m.array() / c1) / ((v.array() / c2).sqrt() + eps);
  }
}

template <typename T>
Adam<T> make_adamw(NamedParameters<T> params, double lr, double weight_decay) {
  AdamOptions opt;
  opt.lr = lr;
  opt.weight_decay = weight_decay;
  opt.decoupled = true;
  return Adam<T>(std::move(params), opt);
}

template class Adam<float>;
template class Adam<double>;
template Adam<float> make_adamw(NamedParameters<float>, double, double);
template Adam<double> make_adamw(NamedParameters<double>, double, double);

}  // namespace torus::nn
