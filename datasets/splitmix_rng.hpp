// The random stream of every augmentation (internal: not installed): splitmix64, with its own
// uniform and integer draws, because std::uniform_*_distribution differ between standard
// libraries and the data must not. Seeded by sample_seed (augment.hpp) per (run, epoch, index, view).
#pragma once

#include <cstdint>

namespace torus::datasets::detail {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A splitmix64 stream with its own uniform and integer draws: std::uniform_*_distribution differ
// between standard libraries, and the data must not.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64(state_ += 0x9e3779b97f4a7c15ULL); }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  bool chance(double p) { return uniform() < p; }
  // Uniform in [lo, hi], without modulo bias.
  int64_t integer(int64_t lo, int64_t hi) {
    const uint64_t range = uint64_t(hi - lo) + 1;
    const uint64_t limit = -range % range;  // 2^64 mod range: draws below it are rejected
    uint64_t r;
    do r = next();
    while (r < limit);
    return lo + int64_t(r % range);
  }

 private:
  uint64_t state_;
};

}  // namespace torus::datasets::detail
