// The demonstration job really learns: the two-spirals set is fitted, and runs repeat exactly.
#include <catch2/catch.hpp>

#include "train/tools/spirals.hpp"

using namespace torus::tools;

TEST_CASE("the MLP fits the two spirals above 95% and the loss falls", "[train]") {
  SpiralsOptions opt;
  opt.points_per_class = 100;
  const SpiralsResult r = train_spirals(opt);
  CHECK(r.accuracy > 0.95);
  REQUIRE(r.loss.size() == size_t(opt.steps));
  CHECK(r.loss.back() < 0.2 * r.loss.front());
}

TEST_CASE("the same seed gives the same loss curve bit for bit", "[train]") {
  SpiralsOptions opt;
  opt.points_per_class = 50;
  opt.steps = 50;
  CHECK(train_spirals(opt).loss == train_spirals(opt).loss);
  SpiralsOptions other = opt;
  other.seed = 7;
  CHECK(train_spirals(other).loss != train_spirals(opt).loss);
}
