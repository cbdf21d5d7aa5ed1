// Few-shot classification by nearest class prototype (Snell et al.'s prototypical networks, the
// protocol of ProtoCLR-style audio and image benchmarks): each episode draws n classes, k labelled
// "support" samples and q query samples per class from one embedded set; each class's prototype
// is the mean of its support vectors, and a query takes the class of the nearest prototype
// (squared Euclidean distance in the evaluated space). Accuracy is averaged over many episodes.
// The bioacoustic protocol (method.md 13, ProtoCLR's few-shot test) adds two things: every vector
// is L2-normalised and the episode's support mean is subtracted from supports and queries before
// the prototypes are built, and the queries are every sample of a drawn class outside its support.
#pragma once

#include "geometry/row_matrix.hpp"
#include "train/eval/precision.hpp"

#include <cstdint>
#include <vector>

namespace torus::eval {

struct FewShotOptions {
  int ways = 5;
  int shots = 1;
  int queries_per_class = 15;  // 0: every sample of the class that is not in the support
  int episodes = 600;
  uint64_t seed = 0;
  bool centre_on_support = false;  // L2-normalise, then subtract the support mean (the bioacoustic protocol)
};

// One episode as drawn, for checking the protocol against another implementation.
struct FewShotEpisode {
  std::vector<std::vector<int64_t>> support, queries;  // per way: row indices
  double accuracy = 0;
};

struct FewShotResult {
  double mean = 0, std_dev = 0, ci95 = 0;  // accuracy over episodes; ci95 = 1.96 std / sqrt(episodes)
  int ways = 0, shots = 0, episodes = 0;
};

// Classes with fewer than shots + queries_per_class samples are never drawn; throws
// std::invalid_argument when fewer than `ways` classes are left.
// `trace`, when given, receives every episode.
FewShotResult few_shot_accuracy(const RowMatrix& x, const std::vector<int>& labels, const FewShotOptions& options,
                                std::vector<FewShotEpisode>* trace = nullptr);

// The same episodes (same draws for the same labels and seed) on uint8 torus codes (N, K), as a
// device holding only codes would run them: each prototype is the circular mean of its support
// codes on every circle, rounded to a code, and a query takes the prototype at the least circular
// L1 distance in code units (uint8 wraparound arithmetic).
FewShotResult few_shot_accuracy_codes(const geometry::CodeMatrix& codes, const std::vector<int>& labels,
                                      const FewShotOptions& options, std::vector<FewShotEpisode>* trace = nullptr);

}  // namespace torus::eval
