// The model zoo. FmnistConvNet is its own module (benchmarks.md's reference network, which the
// export to C also reads layer by layer); the others are each a Network (backbone + classifier or
// embedding head):
//   convnet       FmnistConvNet: conv3x3(1->32, pad 1) ReLU maxpool2 -> conv3x3(32->64, pad 1) ReLU
//                 maxpool2 -> flatten (3136) -> EmbeddingHead with Linear(3136 -> 128) ReLU
//                 Linear(128 -> D), the reference's fully connected part; input (N, 1, 28, 28),
//                 already normalised (ReLU and max pooling run in the other order, which gives
//                 identical values and gradients)
//   lenet5        conv(C->6, 5, pad 2) ReLU maxpool2 conv(6->16, 5) ReLU maxpool2 fc 400->120 ReLU
//                 fc 120->84 ReLU (28x28 inputs)
//   mlp           flatten, 784->500 ReLU, 500->300 ReLU (the 784-500-300 MLP)
//   resnet20      CIFAR ResNet-20: conv3x3(C->w) BN ReLU, 3 stages of 3 basic blocks at widths
//                 w, 2w, 4w (stride 2 entering stages 2 and 3; 1x1 conv + BN shortcut where the
//                 shape changes [D]), global average pooling -> 4w
//   vgg11_bn      VGG-11 configuration A with batch norm, widths (w1, w2, w3, w4) default
//                 (64, 128, 256, 512), max pooling (or average pooling, the Fashion-MNIST
//                 variant), 32x32 inputs end at 1x1 -> w4 features
//   audio_cnn     log-mel spectrograms (C, mels, frames) of any size: 4 blocks of [conv3x3 BN ReLU]
//                 x 2 then 2x2 max pooling, at widths w, 2w, 4w, 8w, then global average pooling
//                 over bands and time -> 8w features (the VGG-like CNN of audio tagging, PANNs'
//                 CNN10 with its pooling kept simple)
#pragma once

#include "nn/conv2d.hpp"
#include "nn/embedding_head.hpp"
#include "nn/network.hpp"

#include <array>

namespace torus::nn {

template <typename T>
class FmnistConvNet : public Module<T> {
 public:
  // head.in_features and head.hidden are set here (3136 and 128); mode and dim come from `head`.
  FmnistConvNet(EmbeddingHeadConfig head, std::mt19937_64& rng);
  Var<T> forward(const Var<T>& x) override;  // (N, 1, 28, 28) -> (N, D)
  NamedParameters<T> parameters() override;
  const EmbeddingHeadConfig& head_config() const { return head_.config(); }
  EmbeddingHead<T>& head() { return head_; }

 private:
  static EmbeddingHeadConfig reference_head(EmbeddingHeadConfig c);
  Conv2d<T> conv1_, conv2_;
  EmbeddingHead<T> head_;
};

extern template class FmnistConvNet<float>;
extern template class FmnistConvNet<double>;

template <typename T>
std::unique_ptr<Network<T>> make_lenet5(int64_t in_channels, const OutputSpec& output, std::mt19937_64& rng);

template <typename T>
std::unique_ptr<Network<T>> make_mlp(int64_t in_features, const OutputSpec& output, std::mt19937_64& rng);

template <typename T>
std::unique_ptr<Network<T>> make_resnet20(int64_t in_channels, int64_t width, const OutputSpec& output, std::mt19937_64& rng);

template <typename T>
std::unique_ptr<Network<T>> make_audio_cnn(int64_t in_channels, int64_t width, const OutputSpec& output, std::mt19937_64& rng);

template <typename T>
std::unique_ptr<Network<T>> make_vgg11_bn(int64_t in_channels, const std::array<int64_t, 4>& widths, bool average_pooling,
                                          const OutputSpec& output, std::mt19937_64& rng);

}  // namespace torus::nn
