#include "nn/embedding_head.hpp"

#include "nn/flat_torus.hpp"
#include "nn/normalize.hpp"

#include <cmath>
#include <stdexcept>

namespace torus::nn {

namespace {
EmbeddingHeadConfig checked(EmbeddingHeadConfig c) {
  if (c.dim < 2) throw std::invalid_argument("EmbeddingHead: dimension D must be at least 2, got " + std::to_string(c.dim));
  if ((c.mode == HeadMode::torusN) && c.dim % 2 != 0) {
    throw std::invalid_argument("EmbeddingHead: torusN needs an even dimension D (pairs of coordinates), got " +
                                std::to_string(c.dim));
  }
  if (c.hidden == 0) c.hidden = 4 * c.dim;
  return c;
}
}  // namespace

template <typename T>
EmbeddingHead<T>::EmbeddingHead(const EmbeddingHeadConfig& config, std::mt19937_64& rng)
    : config_(checked(config)),
      fc1_(config_.in_features, config_.hidden, rng),
      fc2_(config_.hidden, config_.mode == HeadMode::spherization ? config_.dim - 1 : config_.dim, rng) {
  // Spherization takes fc2's output as its pre-activation (in place of a nonlinearity). A layer
  // after it would have to be bias-free (method.md 14.2); here its output is the embedding itself.
  if (config_.mode == HeadMode::spherization)
    spherization_ = std::make_unique<Spherization<T>>(config_.dim - 1, config_.spherization);
}

template <typename T>
Var<T> EmbeddingHead<T>::forward(const Var<T>& x) {
  const Var<T> h = fc2_(relu(fc1_(x)));
  switch (config_.mode) {
    case HeadMode::sphere: return sphere_normalize(h);
    case HeadMode::torusN: return pair_normalize(h);
    case HeadMode::torusC: return wrap01(h);
    case HeadMode::spherization: return (*spherization_)(h);
    case HeadMode::none: return h;
  }
  throw std::logic_error("EmbeddingHead: unknown mode");
}

template <typename T>
void EmbeddingHead<T>::rewrap() {
  if (config_.mode != HeadMode::torusC) return;
  for (int64_t i = 0; i < fc2_.bias.value.numel(); ++i) {
    T& b = fc2_.bias.value[i];
    b -= std::floor(b);
  }
}

template <typename T>
NamedParameters<T> EmbeddingHead<T>::parameters() {
  NamedParameters<T> out;
  append_named(out, "fc1", fc1_.parameters());
  append_named(out, "fc2", fc2_.parameters());
  if (spherization_) append_named(out, "spherization", spherization_->parameters());
  return out;
}

template class EmbeddingHead<float>;
template class EmbeddingHead<double>;

}  // namespace torus::nn
