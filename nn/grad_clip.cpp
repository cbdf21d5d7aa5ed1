#include "nn/grad_clip.hpp"

#include <cmath>
#include <stdexcept>

namespace torus::nn {

template <typename T>
double clip_grad_norm(const NamedParameters<T>& params, double max_norm) {
  if (!(max_norm > 0)) throw std::invalid_argument("clip_grad_norm: max_norm must be positive");
  double sq = 0;  // in double: the sum of many float squares loses digits otherwise
  for (const auto& [name, p] : params) sq += p->grad.array().template cast<double>().square().sum();
  const double norm = std::sqrt(sq);
  if (norm > max_norm) {
    const T scale = T(max_norm / (norm + 1e-6));
    for (const auto& [name, p] : params) p->grad.array() *= scale;
  }
  return norm;
}

template <typename T>
void clip_grad_value(const NamedParameters<T>& params, double limit) {
  if (!(limit > 0)) throw std::invalid_argument("clip_grad_value: limit must be positive");
  for (const auto& [name, p] : params) p->grad.array() = p->grad.array().max(T(-limit)).min(T(limit));
}

template double clip_grad_norm(const NamedParameters<float>&, double);
template double clip_grad_norm(const NamedParameters<double>&, double);
template void clip_grad_value(const NamedParameters<float>&, double);
template void clip_grad_value(const NamedParameters<double>&, double);

}  // namespace torus::nn
