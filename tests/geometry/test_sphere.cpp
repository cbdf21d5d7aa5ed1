// The fixed random rotation: orthogonal, det +1, reproducible, and preserving normalised inner
// products (oracle 15.3). Row and pair normalisation are in test_normalize.cpp.
#include <catch2/catch.hpp>

#include "geometry/sphere.hpp"
#include "geometry_test_util.hpp"

#include <Eigen/LU>

#include <cmath>

using namespace torus::geometry;
using namespace torus::geometry::testing;

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
