// Seeded shuffling that gives the same order with every standard library (std::shuffle and the
// std distributions do not): Fisher-Yates driven by std::mt19937_64's raw output, whose sequence
// the standard fixes. Used for epoch orders, held-out splits and few-shot episodes.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace torus::datasets {

// Uniform in [0, bound) from the engine's raw 64-bit output, without modulo bias.
inline uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = -bound % bound;
  uint64_t r;
  do r = rng();
  while (r < limit);
  return r % bound;
}

// Moves a uniformly drawn sample of m entries of v to its front, in random order.
template <typename T>
void shuffle_front(std::vector<T>& v, int64_t m, std::mt19937_64& rng) {
  const int64_t n = int64_t(v.size());
  for (int64_t i = 0; i < m && i < n - 1; ++i) std::swap(v[size_t(i)], v[size_t(i + int64_t(uniform_below(rng, uint64_t(n - i))))]);
}

// A permutation of 0 .. n-1 drawn from `seed`.
inline std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[size_t(i)], order[uniform_below(rng, uint64_t(i) + 1)]);
  return order;
}

}  // namespace torus::datasets
