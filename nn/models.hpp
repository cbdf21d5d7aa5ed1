// The model zoo, each a Network (backbone + classifier or embedding head):
//   lenet5        conv(C->6, 5, pad 2) ReLU maxpool2 conv(6->16, 5) ReLU maxpool2 fc 400->120 ReLU
//                 fc 120->84 ReLU (28x28 inputs)
//   mlp           flatten, 784->500 ReLU, 500->300 ReLU (the 784-500-300 MLP)
//   resnet20      CIFAR ResNet-20: conv3x3(C->w) BN ReLU, 3 stages of 3 basic blocks at widths
//                 w, 2w, 4w (stride 2 entering stages 2 and 3; 1x1 conv + BN shortcut where the
//                 shape changes [D]), global average pooling -> 4w
//   vgg11_bn      VGG-11 configuration A with batch norm, widths (w1, w2, w3, w4) default
//                 (64, 128, 256, 512), max pooling (or average pooling, the Fashion-MNIST
//                 variant), 32x32 inputs end at 1x1 -> w4 features
#pragma once

#include "nn/network.hpp"

#include <array>

namespace torus::nn {

template <typename T>
std::unique_ptr<Network<T>> make_lenet5(int64_t in_channels, const OutputSpec& output, std::mt19937_64& rng);

template <typename T>
std::unique_ptr<Network<T>> make_mlp(int64_t in_features, const OutputSpec& output, std::mt19937_64& rng);

template <typename T>
std::unique_ptr<Network<T>> make_resnet20(int64_t in_channels, int64_t width, const OutputSpec& output, std::mt19937_64& rng);

template <typename T>
std::unique_ptr<Network<T>> make_vgg11_bn(int64_t in_channels, const std::array<int64_t, 4>& widths, bool average_pooling,
                                          const OutputSpec& output, std::mt19937_64& rng);

}  // namespace torus::nn
