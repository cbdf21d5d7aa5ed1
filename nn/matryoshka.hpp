// Matryoshka torus embeddings (Kusupati et al.'s Matryoshka representation learning, on circles):
// the contrastive loss is summed over nested prefixes of the embedding, the first k circles for
// each k of a list, so that a code cut after its first k bytes (one uint8 per circle) is itself a
// good embedding and a device keeps 2, 4 or 8 bytes per item as memory allows. A prefix of a
// torus is a torus: for torusN the first k unit pairs (2k columns of z), for torusC the first k
// coordinates (their Clifford features are then the first k cosines and sines); each prefix is
// scored in its own geometry, with S = k. With k = every circle and weight 1 the loss is exactly
// the plain one.
#pragma once

#include "autodiff/ops.hpp"
#include "nn/head_mode.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::nn {

struct CircleLevel {
  int64_t circles = 0;  // k
  double weight = 1;    // of its loss in the sum
};

// Levels from "1,2,4,8" and optional weights "1,1,0.5,0.5" (empty: all 1): strictly increasing
// circle counts in [1, circles], positive finite weights, one per level. Throws
// std::invalid_argument saying which item is wrong and what is expected.
std::vector<CircleLevel> parse_circle_levels(const std::string& levels, const std::string& weights, int64_t circles);

// The circles a head's output holds: D/2 for torusN, D for torusC (std::invalid_argument for the
// heads without circles).
int64_t head_circles(HeadMode mode, int64_t dim);

// z (B, D) in the head's space -> its first k circles, (B, 2k) for torusN and (B, k) for torusC.
template <typename T>
Var<T> circle_prefix(const Var<T>& z, HeadMode mode, int64_t k);

}  // namespace torus::nn
