// Row and pair normalisation (hand values, the zero clamp, odd D) and the fixed random rotation:
// orthogonal, det +1, reproducible, and preserving normalised inner products (oracle 15.3).
#include <catch2/catch.hpp>

#include "geometry/sphere.hpp"
#include "geometry_test_util.hpp"

#include <Eigen/LU>

#include <cmath>

using namespace torus::geometry;
using namespace torus::geometry::testing;

TEST_CASE("l2_normalize_rows by hand, with a zero row", "[geometry][sphere]") {
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

TEST_CASE("pair_normalize_rows by hand: unit pairs, and a zero pair stays finite", "[geometry][sphere]") {
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

TEST_CASE("pair_normalize_rows: every pair has unit norm, rows have norm sqrt(D/2)", "[geometry][sphere]") {
  const RowMatrix<double> z = pair_normalize_rows<double>(gaussian_matrix(12, 16, 22));
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    for (Eigen::Index k = 0; k < 8; ++k) CHECK(std::hypot(z(n, 2 * k), z(n, 2 * k + 1)) == Approx(1.0).margin(1e-14));
    CHECK(z.row(n).norm() == Approx(std::sqrt(8.0)).margin(1e-13));
  }
}

TEST_CASE("pair_normalize_rows rejects odd D, naming the size", "[geometry][sphere]") {
  CHECK_THROWS_AS(pair_normalize_rows<double>(RowMatrix<double>::Ones(1, 5)), std::invalid_argument);
  CHECK_THROWS_WITH(pair_normalize_rows<float>(RowMatrix<float>::Ones(1, 5)), Catch::Contains("(1, 5)"));
}

TEST_CASE("random_rotation is orthogonal with determinant +1 and fixed by its seed", "[geometry][sphere]") {
  for (int D : {1, 2, 3, 16, 64}) {
    INFO("D = " << D);
    const RowMatrix<double> R = random_rotation<double>(D, 42);
    REQUIRE(R.rows() == D);
    REQUIRE(R.cols() == D);
    CHECK(max_abs_diff(R.transpose() * R, RowMatrix<double>::Identity(D, D)) < 1e-12);
    CHECK(R.determinant() == Approx(1.0).margin(1e-10));
    CHECK(random_rotation<double>(D, 42) == R);
    if (D > 1) CHECK(max_abs_diff(random_rotation<double>(D, 43), R) > 1e-3);
  }
  const RowMatrix<float> Rf = random_rotation<float>(16, 42);
  CHECK((Rf.transpose() * Rf - RowMatrix<float>::Identity(16, 16)).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK(max_abs_diff(Rf.cast<double>(), random_rotation<double>(16, 42)) < 1e-7);
  CHECK_THROWS_AS(random_rotation<double>(0, 1), std::invalid_argument);
}

TEST_CASE("a common rotation preserves l2_normalize_rows inner products", "[geometry][sphere]") {
  const RowMatrix<double> h = gaussian_matrix(10, 16, 23);
  const RowMatrix<double> R = random_rotation<double>(16, 7);
  const RowMatrix<double> rotated = h * R;
  const RowMatrix<double> z = l2_normalize_rows<double>(h);
  CHECK(max_abs_diff(l2_normalize_rows<double>(rotated), z * R) < 1e-13);
  CHECK(max_abs_diff(gram(l2_normalize_rows<double>(rotated)), gram(z)) < 1e-13);
}
