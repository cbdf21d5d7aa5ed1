// The output geometries an embedding can live in (method.md 3), and what each one hands the
// contrastive loss: the feature vectors f and the scale S that maps their inner products back to
// [-1, 1] (method.md 4). torusC's wraparound lives here too: its raw outputs are wrapped into
// [0, 1) (gradient 1) so they never drift to magnitudes where float precision is lost.
#pragma once

#include "autodiff/ops.hpp"

#include <string>

namespace torus::nn {

enum class HeadMode { none, sphere, torusN, torusC, spherization };

// "none", "sphere", "torusN", "torusC", "spherization"; anything else throws, listing these.
HeadMode parse_head_mode(const std::string& name);
const char* head_mode_name(HeadMode mode);

// The Clifford map c(h) = [cos 2 pi h, sin 2 pi h] in block order: (B, D) -> (B, 2D).
// Periodic in h, so its value and its gradient are unchanged by h -> h + n for any integer n.
template <typename T>
Var<T> clifford_project(const Var<T>& h);

template <typename T>
struct ContrastiveFeatures {
  Var<T> f;      // (B, F): sphere z (F = D); torusN z (F = D); torusC c(z) (F = 2D); spherization z / |z|
  double scale;  // S: 1 for the sphere, D/2 for torusN, D for torusC, 1 otherwise
};

// z is a head's output in its mode's space (see EmbeddingHead).
template <typename T>
ContrastiveFeatures<T> contrastive_features(const Var<T>& z, HeadMode mode);

}  // namespace torus::nn
