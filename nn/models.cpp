#include "nn/models.hpp"

#include "nn/batchnorm.hpp"
#include "nn/conv2d.hpp"
#include "nn/layers.hpp"

namespace torus::nn {

// ---- FmnistConvNet ----

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

// ---- the Network models ----

namespace {
// conv3x3 (stride) BN ReLU conv3x3 BN, plus the shortcut, then ReLU.
template <typename T>
class BasicBlock : public Module<T> {
 public:
  BasicBlock(int64_t in, int64_t out, int64_t stride, std::mt19937_64& rng)
      : conv1_(in, out, 3, rng, {stride, 1, 1}, false), bn1_(out), conv2_(out, out, 3, rng, {1, 1, 1}, false), bn2_(out) {
    if (stride != 1 || in != out) {
      shortcut_conv_ = std::make_unique<Conv2d<T>>(in, out, 1, rng, Conv2dGeometry{stride, 0, 1}, false);
      shortcut_bn_ = std::make_unique<BatchNorm<T>>(out);
    }
  }
  Var<T> forward(const Var<T>& x) override {
    const Var<T> h = bn2_(conv2_(relu(bn1_(conv1_(x)))));
    const Var<T> skip = shortcut_conv_ ? (*shortcut_bn_)((*shortcut_conv_)(x)) : x;
    return relu(h + skip);
  }
  NamedParameters<T> parameters() override {
    NamedParameters<T> out;
    append_named(out, "conv1", conv1_.parameters());
    append_named(out, "bn1", bn1_.parameters());
    append_named(out, "conv2", conv2_.parameters());
    append_named(out, "bn2", bn2_.parameters());
    if (shortcut_conv_) {
      append_named(out, "shortcut.conv", shortcut_conv_->parameters());
      append_named(out, "shortcut.bn", shortcut_bn_->parameters());
    }
    return out;
  }
  NamedBuffers<T> buffers() override {
    NamedBuffers<T> out;
    append_named(out, "bn1", bn1_.buffers());
    append_named(out, "bn2", bn2_.buffers());
    if (shortcut_bn_) append_named(out, "shortcut.bn", shortcut_bn_->buffers());
    return out;
  }
  void set_training(bool on) override {
    this->training_ = on;
    bn1_.set_training(on);
    bn2_.set_training(on);
    if (shortcut_bn_) shortcut_bn_->set_training(on);
  }
  void set_batch_norm_sync(const dist::Communicator* comm) override {
    bn1_.set_batch_norm_sync(comm);
    bn2_.set_batch_norm_sync(comm);
    if (shortcut_bn_) shortcut_bn_->set_batch_norm_sync(comm);
  }

 private:
  Conv2d<T> conv1_;
  BatchNorm<T> bn1_;
  Conv2d<T> conv2_;
  BatchNorm<T> bn2_;
  std::unique_ptr<Conv2d<T>> shortcut_conv_;
  std::unique_ptr<BatchNorm<T>> shortcut_bn_;
};
}  // namespace

template <typename T>
std::unique_ptr<Network<T>> make_lenet5(int64_t in_channels, const OutputSpec& output, std::mt19937_64& rng) {
  auto b = std::make_unique<Sequential<T>>();
  b->template emplace<Conv2d<T>>(in_channels, 6, 5, rng, Conv2dGeometry{1, 2, 1});
  b->template emplace<ReLU<T>>();
  b->template emplace<MaxPool2d<T>>(2);
  b->template emplace<Conv2d<T>>(6, 16, 5, rng);
  b->template emplace<ReLU<T>>();
  b->template emplace<MaxPool2d<T>>(2);
  b->template emplace<Flatten<T>>();
  b->template emplace<Linear<T>>(400, 120, rng);
  b->template emplace<ReLU<T>>();
  b->template emplace<Linear<T>>(120, 84, rng);
  b->template emplace<ReLU<T>>();
  return std::make_unique<Network<T>>(std::move(b), 84, output, rng);
}

template <typename T>
std::unique_ptr<Network<T>> make_mlp(int64_t in_features, const OutputSpec& output, std::mt19937_64& rng) {
  auto b = std::make_unique<Sequential<T>>();
  b->template emplace<Flatten<T>>();
  b->template emplace<Linear<T>>(in_features, 500, rng);
  b->template emplace<ReLU<T>>();
  b->template emplace<Linear<T>>(500, 300, rng);
  b->template emplace<ReLU<T>>();
  return std::make_unique<Network<T>>(std::move(b), 300, output, rng);
}

template <typename T>
std::unique_ptr<Network<T>> make_resnet20(int64_t in_channels, int64_t width, const OutputSpec& output, std::mt19937_64& rng) {
  auto b = std::make_unique<Sequential<T>>();
  b->template emplace<Conv2d<T>>(in_channels, width, 3, rng, Conv2dGeometry{1, 1, 1}, false);
  b->template emplace<BatchNorm<T>>(width);
  b->template emplace<ReLU<T>>();
  int64_t in = width;
  for (int stage = 0; stage < 3; ++stage) {
    const int64_t out = width << stage;
    for (int block = 0; block < 3; ++block) {
      b->add(std::make_unique<BasicBlock<T>>(in, out, (stage > 0 && block == 0) ? 2 : 1, rng));
      in = out;
    }
  }
  b->template emplace<GlobalAvgPool<T>>();
  return std::make_unique<Network<T>>(std::move(b), in, output, rng);
}

template <typename T>
std::unique_ptr<Network<T>> make_vgg11_bn(int64_t in_channels, const std::array<int64_t, 4>& w, bool average_pooling,
                                          const OutputSpec& output, std::mt19937_64& rng) {
  // configuration A: w1 M w2 M w3 w3 M w4 w4 M w4 w4 M (M = 2x2 pooling)
  const int64_t pool = -1;
  const int64_t config[] = {w[0], pool, w[1], pool, w[2], w[2], pool, w[3], w[3], pool, w[3], w[3], pool};
  auto b = std::make_unique<Sequential<T>>();
  int64_t in = in_channels;
  for (int64_t c : config) {
    if (c == pool) {
      if (average_pooling) b->template emplace<AvgPool2d<T>>(2);
      else b->template emplace<MaxPool2d<T>>(2);
      continue;
    }
    b->template emplace<Conv2d<T>>(in, c, 3, rng, Conv2dGeometry{1, 1, 1});
    b->template emplace<BatchNorm<T>>(c);
    b->template emplace<ReLU<T>>();
    in = c;
  }
  b->template emplace<Flatten<T>>();  // 32x32 inputs end at 1x1
  return std::make_unique<Network<T>>(std::move(b), w[3], output, rng);
}

template <typename T>
std::unique_ptr<Network<T>> make_audio_cnn(int64_t in_channels, int64_t width, const OutputSpec& output, std::mt19937_64& rng) {
  auto b = std::make_unique<Sequential<T>>();
  int64_t in = in_channels;
  for (int block = 0; block < 4; ++block) {
    const int64_t out = width << block;
    for (int layer = 0; layer < 2; ++layer) {
      b->template emplace<Conv2d<T>>(layer ? out : in, out, 3, rng, Conv2dGeometry{1, 1, 1}, false);
      b->template emplace<BatchNorm<T>>(out);
      b->template emplace<ReLU<T>>();
    }
    b->template emplace<MaxPool2d<T>>(2);
    in = out;
  }
  b->template emplace<GlobalAvgPool<T>>();
  return std::make_unique<Network<T>>(std::move(b), in, output, rng);
}

#define TORUS_INSTANTIATE(T)                                                                                          \
  template std::unique_ptr<Network<T>> make_lenet5(int64_t, const OutputSpec&, std::mt19937_64&);                   \
  template std::unique_ptr<Network<T>> make_mlp(int64_t, const OutputSpec&, std::mt19937_64&);                      \
  template std::unique_ptr<Network<T>> make_resnet20(int64_t, int64_t, const OutputSpec&, std::mt19937_64&);        \
  template std::unique_ptr<Network<T>> make_audio_cnn(int64_t, int64_t, const OutputSpec&, std::mt19937_64&);       \
  template std::unique_ptr<Network<T>> make_vgg11_bn(int64_t, const std::array<int64_t, 4>&, bool, const OutputSpec&, \
                                                     std::mt19937_64&);
TORUS_INSTANTIATE(float)
TORUS_INSTANTIATE(double)
#undef TORUS_INSTANTIATE

}  // namespace torus::nn
