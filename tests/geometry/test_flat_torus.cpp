// Flat-torus kernels: hand values and wrapped distances (the differentiable ops that share them
// are checked against them in tests/nn/test_flat_torus.cpp).
#include <catch2/catch.hpp>

#include "geometry/flat_torus.hpp"

using namespace torus;

TEST_CASE("wrap01 and wrapped_diff kernels", "[geometry]") {
  CHECK(geometry::wrap01(-0.25) == 0.75);
  CHECK(geometry::wrap01(3.5) == 0.5);
  CHECK(geometry::wrap01(-1e-20) == 0.0);
  CHECK(geometry::wrapped_diff(0.9, 0.1) == Approx(-0.2));
  CHECK(geometry::wrapped_diff(0.5, 0.0) == -0.5);
  CHECK(geometry::wrapped_diff(0.0f, 0.5f) == -0.5f);
}

TEST_CASE("torus distances wrap around", "[geometry]") {
  Eigen::ArrayXd p(2), q(2);
  p << 0.95, 0.1;
  q << 0.05, 0.9;
  CHECK(geometry::torus_distance_l1<double>(p, q) == Approx(0.3));
  CHECK(geometry::torus_distance_l2<double>(p, q) == Approx(std::sqrt(0.01 + 0.04)));
  Eigen::ArrayXd r(3);
  CHECK_THROWS_AS(geometry::torus_distance_l2<double>(p, r), std::invalid_argument);
}
