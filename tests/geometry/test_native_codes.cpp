// Whole-matrix native torus codes (method.md 12): torusN pairs -> D/2 angle codes, torusC
// coordinates -> D codes, both floor(256 u) mod 256.
#include <catch2/catch.hpp>

#include "geometry/clifford_torus.hpp"
#include "geometry/uint8_codes.hpp"

#include <cmath>

using namespace torus::geometry;

TEST_CASE("torusN_codes: unit pairs to one code per circle", "[geometry][uint8]") {
  RowMatrix<double> u(2, 3);
  u << 0.5 / 256, 64.5 / 256, 255.5 / 256,
       128.5 / 256, 200.25 / 256, 0.999;  // cell interiors, so atan2 rounding cannot move a cell
  const RowMatrix<double> z = pairs_from_angles<double>(u);
  CodeMatrix expected(2, 3);
  expected << 0, 64, 255,
              128, 200, 255;
  CHECK(torusN_codes<double>(z) == expected);
  CHECK(torusN_codes<float>(z.cast<float>()) == expected);
  // pairs need not be normalised: atan2 ignores the radius
  CHECK(torusN_codes<double>(3.0 * z) == expected);
  // the paper's torusN inverse map: even column cos, odd column sin
  RowMatrix<double> pair(1, 2);
  pair << 0.0, -1.0;  // angle -90 degrees = 0.75 turns
  CHECK(torusN_codes<double>(pair)(0, 0) == 192);
  CHECK_THROWS_AS(torusN_codes<double>(RowMatrix<double>(1, 3)), std::invalid_argument);
}

TEST_CASE("torusC_codes: any real coordinate, wrapped by the mod 256", "[geometry][uint8]") {
  RowMatrix<double> h(1, 6);
  h << 0.0, 0.5, -0.25, 1.5, 7.0 + 3.0 / 256, -1e-12;
  CodeMatrix expected(1, 6);
  expected << 0, 128, 192, 128, 3, 255;
  CHECK(torusC_codes<double>(h) == expected);
}
