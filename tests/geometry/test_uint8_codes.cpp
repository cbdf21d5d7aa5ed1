// uint8 angle codes (method.md 12): the wrapped difference over all 256 x 256 pairs, encode and
// decode at the wrap point, circular L1, and the cosine LUT against the float Clifford inner
// product on q/256 (oracle 15.5).
#include <catch2/catch.hpp>

#include "geometry/clifford_torus.hpp"
#include "geometry/flat_torus.hpp"
#include "geometry/uint8_codes.hpp"
#include "geometry_test_util.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <random>

using namespace torus::geometry;
using namespace torus::geometry::testing;

TEST_CASE("wrapped_code_diff over all 256 x 256 pairs", "[geometry][uint8]") {
  int failures = 0;  // one CHECK per property at the end keeps the report short
  for (int ia = 0; ia < 256; ++ia) {
    for (int ib = 0; ib < 256; ++ib) {
      const auto a = static_cast<std::uint8_t>(ia), b = static_cast<std::uint8_t>(ib);
      const int d = wrapped_code_diff(a, b);
      const int back = wrapped_code_diff(b, a);
      const int reference = ((ia - ib) % 256 + 256 + 128) % 256 - 128;  // (a - b) mod 256, centred half-open
      bool ok = d >= -128 && d <= 127 && std::abs(d) <= 128 && d == reference;
      ok = ok && (d == -128 ? back == -128 : back == -d);              // antisymmetric except at -128
      ok = ok && static_cast<std::uint8_t>(a - d) == b;                // stepping back by d wraps to b
      ok = ok && static_cast<std::uint8_t>(b + d) == a;
      // the float kernel on q/256 has the same half-open convention, exactly
      ok = ok && 256.0 * wrapped_diff(decode_angle(a), decode_angle(b)) == d;
      ok = ok && circular_l1(&a, &b, 1) == std::min(std::abs(ia - ib), 256 - std::abs(ia - ib));
      if (!ok) {
        ++failures;
        UNSCOPED_INFO("a = " << ia << ", b = " << ib << ", d = " << d << ", reversed " << back);
      }
    }
  }
  CHECK(failures == 0);
  CHECK(wrapped_code_diff(0, 128) == -128);
  CHECK(wrapped_code_diff(128, 0) == -128);
  CHECK(wrapped_code_diff(1, 255) == 2);
  CHECK(wrapped_code_diff(255, 1) == -2);
}

TEST_CASE("encode_angle is floor(256 u) mod 256, also for u slightly negative or >= 1", "[geometry][uint8]") {
  for (int q = 0; q < 256; ++q) {
    const auto code = static_cast<std::uint8_t>(q);
    CHECK(encode_angle(decode_angle(code)) == code);
    CHECK(encode_angle(decode_angle<float>(code)) == code);
    CHECK(encode_angle(decode_angle(code) + 0.5 / 256) == code);  // anywhere in the cell
  }
  CHECK(encode_angle(0.0) == 0);
  CHECK(encode_angle(-0.0) == 0);
  CHECK(encode_angle(-1e-20) == 255);  // floor(-2.56e-18) = -1 -> 255
  CHECK(encode_angle(-1e-20f) == 255);
  CHECK(encode_angle(-0.001) == 255);
  CHECK(encode_angle(-1.0 / 256) == 255);
  CHECK(encode_angle(std::nextafter(1.0, 0.0)) == 255);
  CHECK(encode_angle(1.0) == 0);
  CHECK(encode_angle(1.0 + 1.0 / 256) == 1);
  CHECK(encode_angle(3.5) == 128);
  CHECK(encode_angle(-2.75f) == 64);
  CHECK(decode_angle(255) == 255.0 / 256.0);
  CHECK_THROWS_AS(encode_angle(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  CHECK_THROWS_AS(encode_angle(std::numeric_limits<float>::infinity()), std::invalid_argument);

  // against integer arithmetic on floor(256 u), which is exact for these magnitudes
  const RowMatrix<double> u = uniform_matrix(1, 2000, 41, -3.0, 3.0);
  for (Eigen::Index k = 0; k < u.cols(); ++k) {
    const auto cell = static_cast<long long>(std::floor(256.0 * u(0, k)));
    CHECK(encode_angle(u(0, k)) == static_cast<std::uint8_t>(((cell % 256) + 256) % 256));
  }
}

TEST_CASE("encode_angles and decode_angles on whole matrices", "[geometry][uint8]") {
  RowMatrix<double> u(2, 3);
  u << 0.0, 0.5, 0.999,
       -0.25, 1.0, 0.00390625;  // 1/256
  const CodeMatrix q = encode_angles<double>(u);
  CodeMatrix expected(2, 3);
  expected << 0, 128, 255,
              192, 0, 1;
  CHECK(q == expected);
  RowMatrix<float> back(2, 3);
  back << 0.0f, 0.5f, 255.0f / 256,
          0.75f, 0.0f, 1.0f / 256;
  CHECK(decode_angles<float>(q) == back);
  CHECK(encode_angles<float>(u.cast<float>()) == expected);
}

TEST_CASE("circular_l1 by hand", "[geometry][uint8]") {
  const std::uint8_t a[] = {0, 250, 128, 7};
  const std::uint8_t b[] = {255, 5, 0, 7};
  CHECK(circular_l1(a, b, 4) == 1 + 11 + 128 + 0);  // -128 counts as 128
  CHECK(circular_l1(b, a, 4) == 140);
  CHECK(circular_l1(a, b, 0) == 0);
  CHECK_THROWS_AS(circular_l1(a, b, -1), std::invalid_argument);
}

TEST_CASE("CosineLut values and symmetries", "[geometry][uint8]") {
  for (int A : {1, 100, 127, 32767}) {
    INFO("A = " << A);
    const CosineLut lut(A);
    CHECK(lut.amplitude() == A);
    CHECK(lut[0] == A);
    CHECK(lut[64] == 0);
    CHECK(lut[128] == -A);
    CHECK(lut[192] == 0);
    for (int j = 1; j < 256; ++j) {
      CHECK(lut[static_cast<std::uint8_t>(j)] == lut[static_cast<std::uint8_t>(256 - j)]);
      CHECK(std::abs(lut[static_cast<std::uint8_t>(j)] - A * std::cos(2 * std::numbers::pi * j / 256)) <= 0.5);
    }
  }
  const CosineLut lut;  // A = 127
  CHECK(lut[32] == 90);   // round(127 cos 45 deg) = round(89.80)
  CHECK(lut[1] == 127);   // round(127 * 0.99970)
  CHECK(lut[96] == -90);
  CHECK_THROWS_AS(CosineLut(0), std::invalid_argument);
  CHECK_THROWS_AS(CosineLut(32768), std::invalid_argument);
}

TEST_CASE("oracle 15.5: LUT similarity is the Clifford inner product on q/256 up to rounding", "[geometry][uint8]") {
  const int K = 16;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int A : {127, 32767}) {
    const CosineLut lut(A);
    double worst = 0;
    for (int trial = 0; trial < 200; ++trial) {
      CodeMatrix q(2, K);
      for (Eigen::Index i = 0; i < q.size(); ++i) q.data()[i] = static_cast<std::uint8_t>(byte(rng));
      const RowMatrix<double> c = clifford_project<double>(decode_angles<double>(q));
      const double exact = c.row(0).dot(c.row(1));
      const std::int32_t S = lut.similarity(q.row(0).data(), q.row(1).data(), K);
      worst = std::max(worst, std::abs(static_cast<double>(S) / A - exact));
      CHECK(lut.similarity(q.row(0).data(), q.row(0).data(), K) == K * A);
      CHECK(lut.similarity(q.row(1).data(), q.row(0).data(), K) == S);
      // chordal distance ||c_a - c_b||^2 = 2K - 2 S / A, to the same rounding
      CHECK(std::abs((c.row(0) - c.row(1)).squaredNorm() - (2.0 * K - 2.0 * S / A)) <= 2 * K * 0.5 / A + 1e-12);
    }
    INFO("A = " << A << ", worst |S/A - <c_a, c_b>| = " << worst);
    CHECK(worst <= K * 0.5 / A + 1e-12);
  }
  const std::uint8_t a[1] = {0};
  CHECK_THROWS_AS(CosineLut(32767).similarity(a, a, 70000), std::invalid_argument);  // K * A > 2^31 - 1
  CHECK_THROWS_AS(CosineLut().similarity(a, a, -1), std::invalid_argument);
}
