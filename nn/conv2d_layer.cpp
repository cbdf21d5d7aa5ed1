// The Conv2d module: PyTorch's layout and initialisation around the conv2d op (conv2d.cpp) and
// the fused conv2d_max_pool2 (conv_pool.cpp).
#include "nn/conv2d.hpp"

#include "nn/conv_pool.hpp"

namespace torus::nn {

template <typename T>
Conv2d<T>::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, std::mt19937_64& rng,
                  const Conv2dGeometry& g, bool with_bias)
    : geometry(g), has_bias(with_bias) {
  if (in_channels <= 0 || out_channels <= 0 || kernel <= 0) {
    throw std::invalid_argument("Conv2d: channels and kernel must be positive");
  }
  init_fan_in_uniform(weight, Shape{out_channels, in_channels, kernel, kernel}, has_bias ? &bias : nullptr,
                      in_channels * kernel * kernel, rng);
}

template <typename T>
Var<T> Conv2d<T>::forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  return conv2d(x, tape.param(weight), has_bias ? tape.param(bias) : Var<T>(), geometry);
}

template <typename T>
Var<T> Conv2d<T>::forward_max_pool2(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  return conv2d_max_pool2(x, tape.param(weight), has_bias ? tape.param(bias) : Var<T>(), geometry);
}

template <typename T>
NamedParameters<T> Conv2d<T>::parameters() {
  NamedParameters<T> out{{"weight", &weight}};
  if (has_bias) out.emplace_back("bias", &bias);
  return out;
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace torus::nn
