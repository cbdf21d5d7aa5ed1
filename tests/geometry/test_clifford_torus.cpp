// The Clifford map and the torusN angle conversions: hand values, block order, the inner-product
// identity, integer and common-shift invariance, the unwrap round trip at the wrap point, and
// oracle 15.1 (unwrap then Clifford gives torusN's inner products).
#include <catch2/catch.hpp>

#include "geometry/clifford_torus.hpp"
#include "geometry/flat_torus.hpp"
#include "geometry/sphere.hpp"
#include "geometry_test_util.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

using namespace torus::geometry;
using namespace torus::geometry::testing;

namespace {
constexpr double kPi = std::numbers::pi;
// cos and sin of 36 degrees, and sqrt(1/2)
constexpr double kCos36 = 0.8090169943749475, kSin36 = 0.5877852522924731, kHalfRoot2 = 0.7071067811865476;

RowMatrix<double> two_by_two() {
  RowMatrix<double> h(2, 2);
  h << 0.9, 0.25,
       0.1, 0.125;
  return h;
}
}  // namespace

TEST_CASE("clifford_project of 2 samples x 2 circles by hand, in block order", "[geometry][clifford]") {
  const RowMatrix<double> c = clifford_project<double>(two_by_two());
  REQUIRE(c.rows() == 2);
  REQUIRE(c.cols() == 4);
  RowMatrix<double> expected(2, 4);  // [cos h_1, cos h_2, sin h_1, sin h_2]
  expected << kCos36, 0.0, -kSin36, 1.0,
              kCos36, kHalfRoot2, kSin36, kHalfRoot2;
  CHECK(max_abs_diff(c, expected) < 1e-14);
  // <c(a), c(b)> = cos(2 pi (0.9 - 0.1)) + cos(2 pi (0.25 - 0.125)) = cos 288 + cos 45 degrees
  CHECK(c.row(0).dot(c.row(1)) == Approx(0.30901699437494745 + kHalfRoot2).margin(1e-14));
  CHECK(c.row(0).norm() == Approx(std::sqrt(2.0)).margin(1e-14));
}

TEST_CASE("pairs_from_angles and unwrap_pairs of 2 samples x 2 circles by hand", "[geometry][clifford]") {
  const RowMatrix<double> z = pairs_from_angles<double>(two_by_two());
  RowMatrix<double> expected(2, 4);  // [(cos, sin) circle 1, (cos, sin) circle 2]
  expected << kCos36, -kSin36, 0.0, 1.0,
              kCos36, kSin36, kHalfRoot2, kHalfRoot2;
  CHECK(max_abs_diff(z, expected) < 1e-14);
  CHECK(max_abs_diff(unwrap_pairs<double>(expected), two_by_two()) < 1e-14);
}

TEST_CASE("Clifford inner products are sums of cosines of coordinate differences", "[geometry][clifford]") {
  const RowMatrix<double> h = uniform_matrix(6, 7, 11, -3.0, 3.0);
  const RowMatrix<double> g = gram(clifford_project<double>(h));
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 6; ++b) {
      double expected = 0;
      for (int d = 0; d < 7; ++d) expected += std::cos(2 * kPi * (h(a, d) - h(b, d)));
      CHECK(g(a, b) == Approx(expected).margin(1e-12));
    }
  }
}

TEST_CASE("Clifford similarities ignore integer shifts per sample and a common shift", "[geometry][clifford]") {
  const RowMatrix<double> h = uniform_matrix(8, 5, 12, -2.0, 2.0);
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<int> integer(-4, 4);
  RowMatrix<double> shifted_n = h;  // h + n, a different integer vector for every sample
  for (Eigen::Index i = 0; i < shifted_n.size(); ++i) shifted_n.data()[i] += integer(rng);
  const RowMatrix<double> t = uniform_matrix(1, 5, 14, -1.5, 1.5);
  const RowMatrix<double> shifted_t = h.rowwise() + t.row(0);  // h + t for every sample

  const RowMatrix<double> c = clifford_project<double>(h);
  CHECK(max_abs_diff(clifford_project<double>(shifted_n), c) < 1e-12);  // the map itself is periodic
  CHECK(max_abs_diff(gram(clifford_project<double>(shifted_n)), gram(c)) < 1e-12);
  CHECK(max_abs_diff(gram(clifford_project<double>(shifted_t)), gram(c)) < 1e-12);
}

TEST_CASE("unwrap_pairs inverts pairs_from_angles, including at 0 and just below 1", "[geometry][clifford]") {
  const double below_one = std::nextafter(1.0, 0.0);
  std::vector<double> angles = {0.0, 0.25, 0.5, 0.75, 1e-300, 1e-9, 1.0 - 1e-9, 1.0 - 1e-15, below_one};
  const RowMatrix<double> random_u = uniform_matrix(1, 40, 15, 0.0, 1.0);
  angles.insert(angles.end(), random_u.data(), random_u.data() + random_u.size());
  RowMatrix<double> u(1, static_cast<Eigen::Index>(angles.size()));
  for (std::size_t k = 0; k < angles.size(); ++k) u(0, static_cast<Eigen::Index>(k)) = angles[k];

  const RowMatrix<double> back = unwrap_pairs<double>(pairs_from_angles<double>(u));
  for (Eigen::Index k = 0; k < u.cols(); ++k) {
    INFO("u = " << u(0, k) << ", unwrapped " << back(0, k));
    CHECK(back(0, k) >= 0.0);
    CHECK(back(0, k) < 1.0);
    CHECK(std::abs(wrapped_diff(back(0, k), u(0, k))) < 1e-12);
    // Only the last double below 1 may legitimately come back as 0: it is within 1e-16 of 1 == 0.
    if (u(0, k) != below_one) CHECK(std::abs(back(0, k) - u(0, k)) < 1e-12);
  }
  CHECK(back(0, 0) == 0.0);
}

TEST_CASE("unwrap_pairs at the axes and at the wrap point", "[geometry][clifford]") {
  RowMatrix<double> z(1, 14);
  z << 1, 0,  0, 1,  -1, 0,  -1, -0.0,  0, -1,  1, -1e-20,  0, 0;
  const RowMatrix<double> u = unwrap_pairs<double>(z);
  RowMatrix<double> expected(1, 7);
  expected << 0.0, 0.25, 0.5, 0.5, 0.75, 0.0, 0.0;  // a tiny negative angle folds to 0, not 1.0
  CHECK(max_abs_diff(u, expected) < 1e-15);
  CHECK(u(0, 5) == 0.0);
  CHECK_FALSE(std::signbit(u(0, 0)));

  RowMatrix<float> zf(1, 2);
  zf << 1.0f, -1e-10f;
  const float uf = unwrap_pairs<float>(zf)(0, 0);
  CHECK(uf >= 0.0f);
  CHECK(uf < 1.0f);
}

TEST_CASE("unwrap_pairs, pairs_from_angles and clifford_project map negative and large inputs", "[geometry][clifford]") {
  RowMatrix<double> u(1, 2);
  u << -0.25, 3.5;
  CHECK(max_abs_diff(unwrap_pairs<double>(pairs_from_angles<double>(u)), (RowMatrix<double>(1, 2) << 0.75, 0.5).finished()) <
        1e-14);
  // float: 2 pi * 1000.25 formed in float is off by ~5e-4 rad; wrapping first keeps cos exact to 1e-6
  RowMatrix<float> hf(1, 1);
  hf << 1000.25f;
  const RowMatrix<float> cf = clifford_project<float>(hf);
  CHECK(std::abs(cf(0, 0)) < 1e-6f);
  CHECK(cf(0, 1) == Approx(1.0f).margin(1e-6));
}

TEST_CASE("unwrap_pairs rejects an odd number of columns, naming the shape", "[geometry][clifford]") {
  CHECK_THROWS_AS(unwrap_pairs<double>(RowMatrix<double>::Zero(2, 3)), std::invalid_argument);
  CHECK_THROWS_WITH(unwrap_pairs<double>(RowMatrix<double>::Zero(2, 3)), Catch::Contains("(2, 3)"));
}

TEST_CASE("oracle 15.1: Clifford map of unwrapped torusN vectors keeps their inner products", "[geometry][clifford]") {
  const RowMatrix<double> h = gaussian_matrix(9, 8, 16);
  const RowMatrix<double> z = pair_normalize_rows<double>(h);  // (9, 8), 4 circles
  const RowMatrix<double> c = clifford_project<double>(unwrap_pairs<double>(z));  // (9, 8), block order
  CHECK(max_abs_diff(gram(c), gram(z)) < 1e-12);
  CHECK(gram(z).cwiseAbs().maxCoeff() <= 4.0 + 1e-12);  // <z_a, z_b> in [-D/2, D/2]
}
