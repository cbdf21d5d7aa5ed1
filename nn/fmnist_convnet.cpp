#include "nn/fmnist_convnet.hpp"

namespace torus::nn {

template <typename T>
EmbeddingHeadConfig FmnistConvNet<T>::reference_head(EmbeddingHeadConfig c) {
  c.in_features = 64 * 7 * 7;
  c.hidden = 128;
  return c;
}

template <typename T>
FmnistConvNet<T>::FmnistConvNet(EmbeddingHeadConfig head, std::mt19937_64& rng)
    : conv1_(1, 32, 3, rng, {1, 1, 1}), conv2_(32, 64, 3, rng, {1, 1, 1}), head_(reference_head(head), rng) {}

template <typename T>
Var<T> FmnistConvNet<T>::forward(const Var<T>& x) {
  const Shape& s = x.shape();
  if (s.rank() != 4 || s[1] != 1 || s[2] != 28 || s[3] != 28) {
    throw ShapeError("FmnistConvNet: expected input (N, 1, 28, 28), got " + s.str());
  }
  // relu and max pooling commute exactly (relu is monotone: max(relu a, relu b) = relu(max(a, b)),
  // and both orders send a window's gradient to its first maximum only when it is positive), so
  // pooling first runs relu, forward and backward, on a quarter of the values; and pooling right
  // after the convolution fuses with it (conv_pool.hpp).
  const Var<T> h1 = relu(conv1_.forward_max_pool2(x));   // (N, 32, 14, 14)
  const Var<T> h2 = relu(conv2_.forward_max_pool2(h1));  // (N, 64, 7, 7)
  return head_(reshape(h2, {s[0], -1}));              // (N, D)
}

template <typename T>
NamedParameters<T> FmnistConvNet<T>::parameters() {
  NamedParameters<T> out;
  append_named(out, "conv1", conv1_.parameters());
  append_named(out, "conv2", conv2_.parameters());
  append_named(out, "head", head_.parameters());
  return out;
}

template class FmnistConvNet<float>;
template class FmnistConvNet<double>;

}  // namespace torus::nn
