// Row and pair normalisation (geometry/normalize): hand values, the zero clamp, odd D.
#include <catch2/catch.hpp>

#include "geometry/normalize.hpp"
#include "geometry_test_util.hpp"

#include <cmath>

using namespace torus::geometry;
using namespace torus::geometry::testing;

TEST_CASE("l2_normalize_rows by hand, with a zero row", "[geometry][normalize]") {
  RowMatrix<double> h(3, 2);
  h << 3, 4,
       0, 0,
       -2, 0;
  RowMatrix<double> expected(3, 2);
  expected << 0.6, 0.8,
              0.0, 0.0,
              -1.0, 0.0;
  CHECK(max_abs_diff(l2_normalize_rows<double>(h), expected) < 1e-15);

  const RowMatrix<double> z = l2_normalize_rows<double>(gaussian_matrix(10, 7, 21));
  for (Eigen::Index n = 0; n < z.rows(); ++n) CHECK(z.row(n).norm() == Approx(1.0).margin(1e-14));
}

TEST_CASE("pair_normalize_rows by hand: unit pairs, and a zero pair stays finite", "[geometry][normalize]") {
  RowMatrix<double> h(1, 6);
  h << 3, 4, 0, 0, -5, 0;
  RowMatrix<double> expected(1, 6);
  expected << 0.6, 0.8, 0.0, 0.0, -1.0, 0.0;
  const RowMatrix<double> z = pair_normalize_rows<double>(h);
  CHECK(z.allFinite());
  CHECK(max_abs_diff(z, expected) < 1e-15);

  RowMatrix<float> hf(1, 6);
  hf << 0.0f, 0.0f, 1e-6f, -1e-6f, 1e-30f, 0.0f;
  const RowMatrix<float> zf = pair_normalize_rows<float>(hf);
  CHECK(zf.allFinite());
  CHECK(zf(0, 0) == 0.0f);
  CHECK(zf(0, 2) == Approx(std::sqrt(0.5f)));  // small but above the 1e-12 clamp: a unit pair
  CHECK(zf(0, 4) == Approx(1e-18f));           // below the clamp: divided by 1e-12, not by rho
}

TEST_CASE("pair_normalize_rows: every pair has unit norm, rows have norm sqrt(D/2)", "[geometry][normalize]") {
  const RowMatrix<double> z = pair_normalize_rows<double>(gaussian_matrix(12, 16, 22));
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    for (Eigen::Index k = 0; k < 8; ++k) CHECK(std::hypot(z(n, 2 * k), z(n, 2 * k + 1)) == Approx(1.0).margin(1e-14));
    CHECK(z.row(n).norm() == Approx(std::sqrt(8.0)).margin(1e-13));
  }
}

TEST_CASE("pair_normalize_rows rejects odd D, naming the size", "[geometry][normalize]") {
  CHECK_THROWS_AS(pair_normalize_rows<double>(RowMatrix<double>::Ones(1, 5)), std::invalid_argument);
  CHECK_THROWS_WITH(pair_normalize_rows<float>(RowMatrix<float>::Ones(1, 5)), Catch::Contains("(1, 5)"));
}
