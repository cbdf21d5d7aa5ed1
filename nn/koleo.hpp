// The KoLeo regulariser (Sablayrolles et al. 2018, DINOv2's KoLeoLoss; method.md 5): minus the
// mean log distance of each row to its nearest neighbour, which spreads embeddings out. Applied to
// each view separately and summed over views, so a sample is never paired with its own other view.
// Rows are normalised to unit length first (eps 1e-6), so it always runs on unit vectors.
#pragma once

#include "autodiff/ops.hpp"

namespace torus::nn {

// features: (views * B, F) view-major, as contrastive_features gives them.
// KoLeo_v = -(1/B) sum_i log(|x_i - x_nn(i) + 1e-6| + 1e-6); returns sum over views. The
// neighbour search (maximum inner product, j != i, first index on ties) carries no gradient. With
// B = 1 there is no neighbour and the value is 0 with zero gradient. Duplicate rows give a finite
// value: the 1e-6 added to the difference and inside the log keep it away from log 0.
template <typename T>
Var<T> koleo_loss(const Var<T>& features, int views);

}  // namespace torus::nn
