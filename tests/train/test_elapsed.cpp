// seconds_since, the one duration helper of train/ (the trainer, torus-eval, torus-quant-eval,
// torus-export, torus-bench and torus-spirals report with it): seconds as a double, never
// negative. Checked against a point placed in the past, so nothing here waits or times anything.
#include <catch2/catch.hpp>

#include "train/elapsed.hpp"

TEST_CASE("seconds_since counts seconds from a point in the past", "[train][single-path]") {
  using clock = std::chrono::steady_clock;
  const clock::time_point earlier = clock::now() - std::chrono::milliseconds(1500);
  const double s = torus::train::seconds_since(earlier);
  CHECK(s >= 1.5);
  CHECK(s < 1.5 + 600);  // generous: only the unit (seconds, not ms or ns) is under test
  CHECK(torus::train::seconds_since(clock::now()) >= 0.0);
}
