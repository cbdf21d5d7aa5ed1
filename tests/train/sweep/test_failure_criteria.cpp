// The "failed to train" verdict on synthetic evidence: each criterion fires on the run it describes
// and stays quiet on a run that trained, and the SupCon bounds are the closed forms of method.md 4.
#include <catch2/catch.hpp>

#include "train/sweep/failure_criteria.hpp"

#include <cmath>

using namespace torus::sweep;

namespace {
// A Fashion-MNIST-like run that trained: batch 256, two views, ten classes, SupCon falling well
// below chance, precision@1 0.85, spread-out codes.
CellEvidence trained_run() {
  CellEvidence e;
  e.bounds = supcon_bounds(0.1, 0.07, 2, 256, 10, 1);
  e.epochs = {{1, 7.9, 7.9}, {2, 6.4, 6.4}, {3, 6.0, 6.0}};
  e.classes = 10, e.queries = 10000, e.chance_precision = 0.1;
  e.precision_at_1 = 0.85, e.circular_variance = 0.6, e.code_distinct = 59000, e.code_entropy_nats = 10.9;
  return e;
}

bool has(const std::vector<Failure>& f, const std::string& reason) {
  for (const Failure& x : f)
    if (x.reason == reason) return true;
  return false;
}
}  // namespace

TEST_CASE("supcon_bounds are (tau/base) ln(N-1) and (tau/base) ln(N/classes-1)", "[sweep]") {
  const SupConBounds b = supcon_bounds(0.1, 0.07, 2, 256, 10, 1);
  CHECK(b.chance == Approx(0.1 / 0.07 * std::log(511.0)));
  CHECK(b.separated == Approx(0.1 / 0.07 * std::log(512.0 / 10 - 1)));
  // Matryoshka levels add their losses: the bounds scale with the weights' sum.
  CHECK(supcon_bounds(0.1, 0.07, 2, 256, 10, 3).chance == Approx(3 * b.chance));
  // A batch with fewer anchors than classes: one positive, separated loss 0.
  CHECK(supcon_bounds(0.1, 0.1, 1, 4, 10, 1).separated == 0);
}

TEST_CASE("a run that trained is not failed", "[sweep]") { CHECK(classify_cell(trained_run()).empty()); }

TEST_CASE("exit status 3 and non-finite losses are nonfinite", "[sweep]") {
  CellEvidence e = trained_run();
  e.train_exit = 3;
  e.train_message = "training stopped at epoch 2 step 7: loss is nan";
  const auto f = classify_cell(e);
  REQUIRE(!f.empty());
  CHECK(f[0].reason == "nonfinite");
  CHECK(f[0].detail.find("loss is nan") != std::string::npos);
  CellEvidence g = trained_run();
  g.epochs.push_back({4, NAN, NAN});
  CHECK(classify_cell(g)[0].reason == "nonfinite");
}

TEST_CASE("a loss that stays at chance is a stall; one that rises far above it is divergence", "[sweep]") {
  CellEvidence e = trained_run();
  const double chance = e.bounds.chance, range = e.bounds.chance - e.bounds.separated;
  e.epochs = {{1, chance, chance}, {2, chance - 0.05 * range, chance - 0.05 * range}};
  CHECK(classify_cell(e)[0].reason == "stall");
  e.epochs.back().supcon = chance - 0.15 * range;  // past the 10 % the threshold asks
  CHECK(!has(classify_cell(e), "stall"));
  // Random initial embeddings cost more than chance at tau 0.1: a run that stays there stalled.
  e.epochs = {{1, chance + 0.3 * range, chance + 0.3 * range}, {2, chance + 0.2 * range, chance + 0.2 * range}};
  CHECK(classify_cell(e)[0].reason == "stall");
  e.epochs = {{1, chance, chance}, {2, chance + 0.6 * range, chance + 0.6 * range}};
  const auto f = classify_cell(e);
  CHECK(f[0].reason == "divergence");
  CHECK(!has(f, "stall"));
}

TEST_CASE("precision@1 at chance, one direction or few codes is a collapse", "[sweep]") {
  // torusC at D <= 4 on Fashion-MNIST: one point, precision@1 0.100, and the run reported success.
  CellEvidence e = trained_run();
  e.precision_at_1 = 0.100;
  auto f = classify_cell(e);
  REQUIRE(f.size() == 1);
  CHECK(f[0].reason == "collapse");
  CHECK(f[0].detail.find("chance 0.100") != std::string::npos);
  e.precision_at_1 = 0.125;  // beyond 0.02 of chance: poor, not collapsed
  CHECK(classify_cell(e).empty());
  // A small query set widens the margin to 3 binomial standard errors.
  e.queries = 100;
  CHECK(has(classify_cell(e), "collapse"));

  CellEvidence c = trained_run();
  c.circular_variance = 0.002;
  CHECK(classify_cell(c)[0].reason == "collapse");
  CellEvidence d = trained_run();
  d.code_distinct = 3;
  CHECK(classify_cell(d)[0].detail.find("3 distinct codes for 10 classes") != std::string::npos);
  CellEvidence h = trained_run();
  h.code_entropy_nats = 0.5;  // below ln(10) / 2 = 1.15
  CHECK(classify_cell(h)[0].reason == "collapse");
}

TEST_CASE("measures that were not taken judge nothing", "[sweep]") {
  CellEvidence e;
  e.train_exit = 1;  // an error before training: the runner records it, the criteria see no evidence
  CHECK(classify_cell(e).empty());
}
