// What each head mode hands the contrastive loss (method.md 3.4, 4): the feature vectors f and
// the scale S that maps their inner products back to [-1, 1].
#pragma once

#include "autodiff/ops.hpp"
#include "nn/head_mode.hpp"

namespace torus::nn {

template <typename T>
struct ContrastiveFeatures {
  Var<T> f;      // (B, F): sphere z (F = D); torusN z (F = D); torusC c(z) (F = 2D); spherization z / |z|
  double scale;  // S: 1 for the sphere, D/2 for torusN, D for torusC, 1 otherwise
};

// z is a head's output in its mode's space (see EmbeddingHead).
template <typename T>
ContrastiveFeatures<T> contrastive_features(const Var<T>& z, HeadMode mode);

}  // namespace torus::nn
