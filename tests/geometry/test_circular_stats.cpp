// Circular mean, mean resultant length and the two circular variances: hand values, agreement of
// the row form on Clifford and torusN vectors with the per-circle form, and the collapsed and
// uniform extremes.
#include <catch2/catch.hpp>

#include "geometry/circular_stats.hpp"
#include "geometry/clifford_torus.hpp"
#include "geometry/flat_torus.hpp"
#include "geometry_test_util.hpp"

#include <cmath>

using namespace torus::geometry;
using namespace torus::geometry::testing;

TEST_CASE("circular statistics of 2 samples x 2 circles by hand", "[geometry][circular]") {
  RowMatrix<double> u(2, 2);
  u << 0.9, 0.25,
       0.1, 0.125;
  // circle 1: 0.9 and 0.1 meet across the wrap at 0, R = cos(36 deg); circle 2: mean 0.1875,
  // R = cos(22.5 deg).
  const ArrayX<double> mean = circular_mean<double>(u);
  CHECK(mean[0] >= 0.0);
  CHECK(mean[0] < 1.0);
  CHECK(std::abs(wrapped_diff(mean[0], 0.0)) < 1e-12);
  CHECK(mean[1] == Approx(0.1875).margin(1e-12));
  const ArrayX<double> R = mean_resultant_length<double>(u);
  CHECK(R[0] == Approx(0.8090169943749475).margin(1e-14));
  CHECK(R[1] == Approx(0.9238795325112867).margin(1e-14));
  // 1 - sqrt((R_1^2 + R_2^2) / 2)
  CHECK(circular_variance_torus<double>(u) == Approx(0.13165044832718797).margin(1e-14));
  CHECK(circular_variance_rows<double>(clifford_project<double>(u)) == Approx(0.13165044832718797).margin(1e-14));
}

TEST_CASE("circular variance of rows agrees with the per-circle form on Clifford and torusN vectors",
          "[geometry][circular]") {
  // Concentrated around per-circle centres (some across the wrap) and uniform.
  RowMatrix<double> centres = uniform_matrix(1, 6, 31, -0.5, 1.5);
  const RowMatrix<double> concentrated = gaussian_matrix(500, 6, 32, 0.0, 0.08).rowwise() + centres.row(0);
  const RowMatrix<double> uniform = uniform_matrix(500, 6, 33, 0.0, 1.0);
  for (const RowMatrix<double>* u : {&concentrated, &uniform}) {
    const double torus = circular_variance_torus<double>(*u);
    CHECK(circular_variance_rows<double>(clifford_project<double>(*u)) == Approx(torus).margin(1e-12));
    CHECK(circular_variance_rows<double>(pairs_from_angles<double>(*u)) == Approx(torus).margin(1e-12));
    // float input accumulates in double; only the inputs' rounding is left
    CHECK(circular_variance_torus<float>(u->cast<float>()) == Approx(torus).margin(1e-6));
  }
  CHECK(circular_variance_torus<double>(concentrated) < 0.2);
}

TEST_CASE("circular variance is 0 for collapsed data and near 1 for uniform angles", "[geometry][circular]") {
  RowMatrix<double> collapsed(100, 4);
  collapsed.rowwise() = (Eigen::RowVector4d() << 0.3, 0.999, 0.0, 0.5).finished();
  CHECK(circular_variance_torus<double>(collapsed) == Approx(0.0).margin(1e-12));
  CHECK(circular_variance_rows<double>(clifford_project<double>(collapsed)) == Approx(0.0).margin(1e-12));
  CHECK((mean_resultant_length<double>(collapsed) - 1.0).abs().maxCoeff() < 1e-12);
  CHECK(circular_mean<double>(collapsed)[0] == Approx(0.3).margin(1e-12));
  CHECK(circular_mean<double>(collapsed)[1] == Approx(0.999).margin(1e-12));

  const RowMatrix<double> uniform = uniform_matrix(20000, 8, 34, 0.0, 1.0);
  CHECK(1.0 - circular_variance_torus<double>(uniform) < 0.02);
  CHECK(1.0 - circular_variance_rows<double>(clifford_project<double>(uniform)) < 0.02);
  CHECK(mean_resultant_length<double>(uniform).maxCoeff() < 0.03);
}

TEST_CASE("circular_mean of angles around the wrap point stays in [0, 1)", "[geometry][circular]") {
  RowMatrix<double> u(4, 2);
  u << 0.99, 0.98,
       0.01, 0.97,
       0.995, 0.96,
       0.005, 0.95;
  const ArrayX<double> mean = circular_mean<double>(u);
  CHECK(mean[0] >= 0.0);
  CHECK(mean[0] < 1.0);
  CHECK(std::abs(wrapped_diff(mean[0], 0.0)) < 1e-12);
  CHECK(mean[1] == Approx(0.965).margin(1e-12));
  const ArrayX<float> mean_f = circular_mean<float>(u.cast<float>());
  CHECK(mean_f[0] >= 0.0f);
  CHECK(mean_f[0] < 1.0f);
}

TEST_CASE("circular statistics reject empty input", "[geometry][circular]") {
  CHECK_THROWS_AS(circular_mean<double>(RowMatrix<double>(0, 3)), std::invalid_argument);
  CHECK_THROWS_AS(mean_resultant_length<double>(RowMatrix<double>(0, 3)), std::invalid_argument);
  CHECK_THROWS_AS(circular_variance_rows<double>(RowMatrix<double>(0, 3)), std::invalid_argument);
  CHECK_THROWS_AS(circular_variance_torus<double>(RowMatrix<double>(4, 0)), std::invalid_argument);
}
