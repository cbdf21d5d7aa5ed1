// The reference's grid quantiser (method.md 9) by hand: codes, values, the -1 code of a test
// value below the training minimum, the top clip, the collapsed-range error; and the 1-bit codes
// built on it: bit packing, the torusN quadrant code, the torusC half-circle code, the
// midrange (not zero) threshold of the fitted grid, and Hamming distance.
#include <catch2/catch.hpp>

#include "geometry/clifford_torus.hpp"
#include "geometry/grid_quantizer.hpp"
#include "geometry/one_bit_codes.hpp"
#include "geometry_test_util.hpp"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

using namespace torus::geometry;
using namespace torus::geometry::testing;

TEST_CASE("GridQuantizer 8-bit codes by hand", "[geometry][grid]") {
  RowMatrix<double> train(3, 2);
  train << 0.0, -1.0,
           1.0, 0.5,
           2.0, 3.0;  // m = (0, -1), M = (2, 3): s = 256 / 2 = 128 and 256 / 4 = 64
  const GridQuantizer g = GridQuantizer::fit<double>(train, 8);
  CHECK(g.bits() == 8);
  CHECK(g.levels() == 256);
  CHECK(g.minimum()[0] == 0.0);
  CHECK(g.maximum()[1] == 3.0);

  RowMatrix<double> x(5, 2);
  x << 0.0, -1.0,       // the minimum: code 0
       1.0, 1.0,        // 128; (1 + 1) * 64 = 128
       2.0, 3.0,        // the maximum: floor(256) clipped to 255
       -0.005, -1.001,  // below the training minimum: floor(-0.64) = -1, floor(-0.064) = -1
       0.5, 5.0;        // 64; above the range: clipped to 255
  RowMatrix<std::int32_t> expected(5, 2);
  expected << 0, 0,
              128, 128,
              255, 255,
              -1, -1,
              64, 255;
  const RowMatrix<std::int32_t> q = g.encode<double>(x);
  CHECK(q == expected);
  CHECK(g.encode<float>(x.cast<float>()) == expected);
  CHECK(g.values(q)(1, 0) == 0.5f);
  CHECK(g.values(q)(3, 0) == -1.0f / 256);  // the value the reference evaluates: q / V, negative here
  CHECK(g.values(q)(2, 1) == 255.0f / 256);

  // further below the minimum, further below zero: codes are clipped only at the top
  RowMatrix<double> far(1, 2);
  far << -1.0, -3.0;
  CHECK(g.encode<double>(far)(0, 0) == -128);
  CHECK(g.encode<double>(far)(0, 1) == -128);

  // with the fixed range [0, 1] a torus coordinate gets exactly its uint8 angle code
  const GridQuantizer unit(ArrayX<double>::Zero(1), ArrayX<double>::Ones(1), 8);
  RowMatrix<double> u(1, 1);
  for (int c = 0; c < 256; ++c) {
    u(0, 0) = (c + 0.5) / 256;
    CHECK(unit.encode<double>(u)(0, 0) == c);
  }
}

TEST_CASE("GridQuantizer 1-bit codes threshold at the midrange", "[geometry][grid]") {
  RowMatrix<double> train(2, 1);
  train << 0.5, 1.0;  // midrange 0.75, not 0 and not 0.5; s = 2 / 0.5 = 4 (dyadic: no rounding)
  const GridQuantizer g = GridQuantizer::fit<double>(train, 1);
  RowMatrix<double> x(5, 1);
  x << 0.5, 0.74, 0.75, 1.0, 0.4;
  RowMatrix<std::int32_t> expected(5, 1);
  expected << 0, 0, 1, 1, -1;  // 0.4 < m: (0.4 - 0.5) * 4 = -0.4 -> -1
  CHECK(g.encode<double>(x) == expected);
}

TEST_CASE("GridQuantizer errors: collapsed range names the dimension", "[geometry][grid]") {
  RowMatrix<double> train(3, 3);
  train << 0.0, 0.5, 1.0,
           1.0, 0.5, 2.0,
           2.0, 0.5, 3.0;  // dimension 1 is constant
  CHECK_THROWS_WITH(GridQuantizer::fit<double>(train, 8), Catch::Contains("collapsed range in dimension 1"));
  CHECK_THROWS_AS(GridQuantizer::fit<double>(train.topRows(1), 8), std::invalid_argument);  // one row: all collapsed
  CHECK_THROWS_WITH(GridQuantizer::fit<double>(train.topRows(1), 8), Catch::Contains("dimension 0"));
  CHECK_THROWS_AS(GridQuantizer::fit<double>(RowMatrix<double>(0, 3), 8), std::invalid_argument);
  CHECK_THROWS_AS(GridQuantizer::fit<double>(train.leftCols(1), 0), std::invalid_argument);
  CHECK_THROWS_AS(GridQuantizer::fit<double>(train.leftCols(1), 17), std::invalid_argument);
  RowMatrix<double> with_nan = train.leftCols(1);
  with_nan(1, 0) = std::nan("");
  CHECK_THROWS_AS(GridQuantizer::fit<double>(with_nan, 8), std::invalid_argument);
  const GridQuantizer g = GridQuantizer::fit<double>(train.leftCols(1), 8);
  CHECK_THROWS_AS(g.encode<double>(train), std::invalid_argument);  // 3 columns, fitted on 1
  CHECK_THROWS_AS(g.encode<double>(with_nan), std::invalid_argument);
  CHECK_THROWS_WITH(GridQuantizer(ArrayX<double>::Constant(2, 1.0), ArrayX<double>::Constant(2, 1.0), 8),
                    Catch::Contains("collapsed range in dimension 0"));
}

TEST_CASE("pack_bits and unpack_bits", "[geometry][onebit]") {
  CodeMatrix bits = CodeMatrix::Zero(2, 70);
  bits(0, 0) = 1;
  bits(0, 63) = 1;
  bits(0, 64) = 1;
  bits(0, 69) = 1;
  bits(1, 5) = 1;
  const BitCodeMatrix w = pack_bits(bits);
  REQUIRE(w.cols() == 2);
  CHECK(w(0, 0) == ((1ull << 63) | 1ull));
  CHECK(w(0, 1) == ((1ull << 5) | 1ull));  // bits 64 and 69; the unused high bits stay zero
  CHECK(w(1, 0) == (1ull << 5));
  CHECK(w(1, 1) == 0);
  CHECK(unpack_bits(w, 70) == bits);
  CHECK(hamming_distance(w.row(0).data(), w.row(1).data(), 2) == 5);
  CHECK(pack_bits(CodeMatrix::Zero(1, 64)).cols() == 1);
  bits(1, 1) = 2;
  CHECK_THROWS_AS(pack_bits(bits), std::invalid_argument);
  CHECK_THROWS_AS(unpack_bits(w, 129), std::invalid_argument);
}

TEST_CASE("1-bit torusN quadrant code and torusC half-circle code", "[geometry][onebit]") {
  // Two circles per row, angles in turns: one point per quadrant on circle 0.
  RowMatrix<double> u(4, 2);
  u << 0.1, 0.9,    // cos+ sin+ | cos+ sin-
       0.3, 0.6,    // cos- sin+ | cos- sin-
       0.55, 0.0,   // cos- sin- | cos+ sin 0 (>= 0: bit 1)
       0.8, 0.45;   // cos+ sin- | cos- sin+
  const RowMatrix<double> z = pairs_from_angles<double>(u);  // torusN layout
  const RowMatrix<double> space = torusN_one_bit_space<double>(z);
  REQUIRE(space.cols() == 4);  // D = 4 Clifford values: cos 0, cos 1, sin 0, sin 1
  const BitCodeMatrix q = one_bit_codes<double>(quadrant_grid(4), space);
  const CodeMatrix bits = unpack_bits(q, 4);
  CodeMatrix expected(4, 4);
  expected << 1, 1, 1, 0,
              0, 0, 1, 0,
              0, 1, 0, 1,
              1, 0, 0, 1;
  CHECK(bits == expected);

  // The reference's 1-bit mode fits the range on the data: threshold at the midrange of each
  // Clifford value. On data whose cosines span [-0.2, 1] the cos threshold is 0.4, not 0.
  RowMatrix<double> train_u(3, 1);
  train_u << 0.0, std::acos(-0.2) / (2 * std::numbers::pi), 0.25;
  const RowMatrix<double> train = torusN_one_bit_space<double>(pairs_from_angles<double>(train_u));
  const GridQuantizer fitted = GridQuantizer::fit<double>(train, 1);
  CHECK(fitted.minimum()[0] == Approx(-0.2));
  CHECK(fitted.maximum()[0] == Approx(1.0));
  RowMatrix<double> test_u(2, 1);
  test_u << std::acos(0.3) / (2 * std::numbers::pi), std::acos(0.5) / (2 * std::numbers::pi);  // cos 0.3 and 0.5 (sin > 0 both)
  const CodeMatrix test_bits =
      unpack_bits(one_bit_codes<double>(fitted, torusN_one_bit_space<double>(pairs_from_angles<double>(test_u))), 2);
  CHECK(test_bits(0, 0) == 0);  // 0.3 < 0.4
  CHECK(test_bits(1, 0) == 1);

  // A test value below the training minimum (grid code -1) is bit 0 (our deviation, see header).
  RowMatrix<double> below(1, 1);
  below << -0.5;  // (-0.5 + 0.2) * 2 / 1.2 = -0.5 -> code -1
  const GridQuantizer g = GridQuantizer::fit<double>(train.leftCols(1), 1);
  CHECK(g.encode<double>(below)(0, 0) == -1);
  CHECK(unpack_bits(one_bit_codes<double>(g, below), 1)(0, 0) == 0);

  // torusC: h mod 1 >= 1/2
  RowMatrix<double> h(1, 5);
  h << 0.25, 0.5, 1.75, -0.25, -0.75;
  const CodeMatrix half = unpack_bits(one_bit_codes<double>(half_circle_grid(5), torusC_one_bit_space<double>(h)), 5);
  CodeMatrix half_expected(1, 5);
  half_expected << 0, 1, 1, 1, 0;
  CHECK(half == half_expected);
  CHECK_THROWS_AS(one_bit_codes<double>(GridQuantizer::fit<double>(train, 8), train), std::invalid_argument);
}

TEST_CASE("Hamming distance of 1-bit codes is D minus the Clifford evaluation, halved", "[geometry][onebit]") {
  // The reference evaluates 1-bit codes by Clifford-mapping the values 0 -> +1, 1/2 -> -1; the
  // inner product of two codes is then D - 2 Hamming.
  const int D = 100;
  std::mt19937_64 rng(3);
  for (int t = 0; t < 50; ++t) {
    CodeMatrix bits(2, D);
    for (Eigen::Index i = 0; i < bits.size(); ++i) bits.data()[i] = static_cast<std::uint8_t>(rng() & 1);
    const BitCodeMatrix w = pack_bits(bits);
    RowMatrix<double> v = bits.cast<double>() / 2.0;  // the grid values q / 2
    const RowMatrix<double> c = clifford_project<double>(v);
    const double ip = c.row(0).dot(c.row(1));
    CHECK(std::abs(ip - (D - 2.0 * hamming_distance(w.row(0).data(), w.row(1).data(), w.cols()))) < 1e-9);
  }
}
