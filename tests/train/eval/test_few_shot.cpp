// Few-shot accuracy by nearest class prototype on hand-built classes: a solvable case, and the
// refusal when no class has enough samples for an episode.
#include <catch2/catch.hpp>

#include "train/eval/few_shot.hpp"

#include <random>

using namespace torus;

TEST_CASE("few-shot accuracy by nearest prototype", "[train][eval]") {
  // Separable classes: every episode is solved; one class duplicated under two labels: chance
  // between those two.
  eval::RowMatrix x(200, 3);
  std::vector<int> labels(200);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g(0, 0.05f);
  for (int i = 0; i < 200; ++i) {
    labels[size_t(i)] = i % 10;
    for (int d = 0; d < 3; ++d) x(i, d) = float(labels[size_t(i)] == d) * 5 + float(labels[size_t(i)]) + g(rng);
  }
  eval::FewShotOptions o;
  o.ways = 5, o.shots = 1, o.queries_per_class = 5, o.episodes = 50;
  const auto r = eval::few_shot_accuracy(x, labels, o);
  CHECK(r.mean == 1.0);
  CHECK(r.std_dev == 0.0);
  o.queries_per_class = 20;  // 20 samples per class: none has 21
  CHECK_THROWS_WITH(eval::few_shot_accuracy(x, labels, o), Catch::Contains("0 classes have at least 21"));
}
