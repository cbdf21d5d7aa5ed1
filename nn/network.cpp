#include "nn/network.hpp"

#include <stdexcept>

namespace torus::nn {

template <typename T>
Network<T>::Network(std::unique_ptr<Sequential<T>> backbone, int64_t features, const OutputSpec& output, std::mt19937_64& rng)
    : backbone_(std::move(backbone)) {
  if ((output.classes > 0) == output.head.has_value()) {
    throw std::invalid_argument("Network: give either a number of classes or an embedding head, not both or neither");
  }
  if (output.classes > 0) {
    classifier_ = std::make_unique<Linear<T>>(features, output.classes, rng);
  } else {
    EmbeddingHeadConfig c = *output.head;
    c.in_features = features;
    head_ = std::make_unique<EmbeddingHead<T>>(c, rng);
  }
}

template <typename T>
Var<T> Network<T>::forward(const Var<T>& x) {
  const Var<T> f = backbone_->forward(x);
  return classifier_ ? classifier_->forward(f) : (*head_)(f);
}

template <typename T>
NamedParameters<T> Network<T>::parameters() {
  NamedParameters<T> out;
  append_named(out, "backbone", backbone_->parameters());
  if (classifier_) append_named(out, "classifier", classifier_->parameters());
  if (head_) append_named(out, "head", head_->parameters());
  return out;
}

template <typename T>
NamedBuffers<T> Network<T>::buffers() {
  NamedBuffers<T> out;
  append_named(out, "backbone", backbone_->buffers());
  return out;
}

template <typename T>
void Network<T>::set_training(bool on) {
  this->training_ = on;
  backbone_->set_training(on);
}

template class Network<float>;
template class Network<double>;

}  // namespace torus::nn
