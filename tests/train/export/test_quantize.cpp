// torus-export's integer maths against hand-computed values: the Q31 multiplier and shift, gemmlowp's
// rounding high multiply and rounding shift, the activation and weight quantisers, and the integer
// atan2 against floor(256 atan2 / 2 pi) mod 256 on a grid with the axes, the zero vector and the
// wraparound near angle 0.
#include <catch2/catch.hpp>

#include "train/export/quantize.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>

using namespace torus::train::exportq;

namespace {
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

// floor(256 atan2(y, x) / 2 pi) mod 256 in long double.
int exact_code(std::int64_t y, std::int64_t x) {
  long double u = std::atan2((long double)y, (long double)x) / (2 * std::numbers::pi_v<long double>);
  u -= std::floor(u);
  return int(std::floor(256 * u)) & 255;
}
int circular_distance(int a, int b) {
  const int d = std::abs(a - b) & 255;
  return std::min(d, 256 - d);
}
}  // namespace

TEST_CASE("export: Q31 multiplier and shift of hand values") {
  CHECK(quantize_multiplier(0.5).multiplier == (1 << 30));
  CHECK(quantize_multiplier(0.5).shift == 0);
  CHECK(quantize_multiplier(0.25).multiplier == (1 << 30));
  CHECK(quantize_multiplier(0.25).shift == -1);
  CHECK(quantize_multiplier(0.75).multiplier == 1610612736);  // 0.75 2^31
  CHECK(quantize_multiplier(0.75).shift == 0);
  CHECK(quantize_multiplier(1.0).multiplier == (1 << 30));
  CHECK(quantize_multiplier(1.0).shift == 1);
  CHECK(quantize_multiplier(0.1).multiplier == 1717986918);  // round(0.8 2^31) = 1717986918.4 -> ...918
  CHECK(quantize_multiplier(0.1).shift == -3);               // 0.1 = 0.8 2^-3
  // A mantissa that rounds up to 1 is renormalised to 1/2 with the next shift.
  const QuantizedMultiplier up = quantize_multiplier(1.0 - std::ldexp(1.0, -40));
  CHECK(up.multiplier == (1 << 30));
  CHECK(up.shift == 1);
  CHECK(quantize_multiplier(0.0).multiplier == 0);
  CHECK(quantize_multiplier(std::ldexp(1.0, -40)).multiplier == 0);  // below 2^-31: zero
  CHECK_THROWS_AS(quantize_multiplier(-0.5), std::invalid_argument);
  CHECK_THROWS_AS(quantize_multiplier(std::nan("")), std::invalid_argument);
}

TEST_CASE("export: gemmlowp rounding high multiply and rounding shift") {
  CHECK(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30) == (1 << 29));
  CHECK(saturating_rounding_doubling_high_mul(3, 1 << 30) == 2);    // 1.5 -> 2
  CHECK(saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1);  // -1.5 -> -1: ties towards +infinity
  CHECK(saturating_rounding_doubling_high_mul(1, 1 << 30) == 1);    // 0.5 -> 1
  CHECK(saturating_rounding_doubling_high_mul(-1, 1 << 30) == 0);   // -0.5 -> 0
  CHECK(saturating_rounding_doubling_high_mul(-5, 1 << 30) == -2);  // -2.5 -> -2
  CHECK(saturating_rounding_doubling_high_mul(-7, 1 << 30) == -3);  // -3.5 -> -3
  CHECK(saturating_rounding_doubling_high_mul(kMin, kMin) == kMax);  // the one overflow saturates
  CHECK(saturating_rounding_doubling_high_mul(kMin, 1 << 30) == -(1 << 30));

  CHECK(rounding_divide_by_pot(5, 1) == 3);    // 2.5
  CHECK(rounding_divide_by_pot(-5, 1) == -3);  // -2.5
  CHECK(rounding_divide_by_pot(7, 2) == 2);    // 1.75
  CHECK(rounding_divide_by_pot(-7, 2) == -2);
  CHECK(rounding_divide_by_pot(6, 2) == 2);    // 1.5
  CHECK(rounding_divide_by_pot(-6, 2) == -2);  // -1.5
  CHECK(rounding_divide_by_pot(-5, 2) == -1);  // -1.25
  CHECK(rounding_divide_by_pot(123, 0) == 123);
  CHECK(rounding_divide_by_pot(kMin, 31) == -1);
  CHECK(rounding_divide_by_pot(kMax, 31) == 1);  // 0.99999... rounds to 1

  const QuantizedMultiplier quarter = quantize_multiplier(0.25);
  CHECK(multiply_by_quantized_multiplier(1000, quarter) == 250);
  // 1001 / 4 = 250.25, but the high multiply rounds 500.5 up to 501 first, then 250.5 -> 251: the
  // double rounding of gemmlowp, which the C reproduces.
  CHECK(multiply_by_quantized_multiplier(1001, quarter) == 251);
  // -1001 / 4 = -250.25: the high multiply takes -500.5 to -500 (ties up), then -250.
  CHECK(multiply_by_quantized_multiplier(-1001, quarter) == -250);
  CHECK(multiply_by_quantized_multiplier(1003, quarter) == 251);  // 250.75
  // A left shift saturates before the multiply: 2^29 * 4 saturates to INT32_MAX, then times 1/2.
  const QuantizedMultiplier four = quantize_multiplier(4.0);
  CHECK(four.shift == 3);
  CHECK(multiply_by_quantized_multiplier(1 << 29, four) == (1 << 30));
  CHECK(multiply_by_quantized_multiplier(-7, four) == -28);

  // Random multipliers: within one of round(x M) (at most the double rounding above).
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> m(1e-6, 0.999);
  std::uniform_int_distribution<std::int32_t> x(-100'000'000, 100'000'000);
  for (int i = 0; i < 2000; ++i) {
    const double real = m(rng);
    const std::int32_t v = x(rng);
    const double want = std::round(double(v) * real);
    REQUIRE(std::abs(multiply_by_quantized_multiplier(v, quantize_multiplier(real)) - want) <= 1.0);
  }
}

TEST_CASE("export: activation and weight quantisers") {
  const ActivationQuant relu = choose_activation_quant(0.0, 25.5);
  CHECK(relu.scale == Approx(0.1));
  CHECK(relu.zero_point == -128);  // post-ReLU: the whole int8 range above real 0
  const ActivationQuant sym = choose_activation_quant(-1.0, 1.0);
  CHECK(sym.scale == Approx(2.0 / 255));
  CHECK(sym.zero_point == -1);  // round(-128 + 127.5), half away from zero
  const ActivationQuant only_positive = choose_activation_quant(2.0, 4.0);  // the range is widened to 0
  CHECK(only_positive.scale == Approx(4.0 / 255));

  const float w[] = {1.0f, -2.0f, 0.5f, 0.0f, 0.0f, 0.0f};
  const QuantizedWeights q = quantize_weights_per_channel(w, 2, 3);
  CHECK(q.scales[0] == Approx(2.0 / 127));
  CHECK(q.scales[1] == 1.0);  // an all-zero channel keeps scale 1
  CHECK(int(q.values[0]) == 64);   // 63.5 -> 64
  CHECK(int(q.values[1]) == -127);
  CHECK(int(q.values[2]) == 32);   // 31.75
  CHECK(int(q.values[3]) == 0);
  const float pair[] = {1.0f, 0.0f, 0.0f, 4.0f};
  const QuantizedWeights g = quantize_weights_per_channel(pair, 2, 2, 2);
  CHECK(g.scales[0] == g.scales[1]);  // one scale for both rows of a torusN pair
  CHECK(int(g.values[0]) == 32);      // 31.75
  CHECK(int(g.values[3]) == 127);
  CHECK_THROWS_AS(quantize_weights_per_channel(w, 3, 2, 2), std::invalid_argument);
  CHECK(quantize_bias(10.0, 0.1) == 100);
  CHECK(quantize_bias(1e12, 1e-3) == kMax);
}

TEST_CASE("export: integer atan2 code against floor(256 atan2 / 2 pi) mod 256") {
  // The axes and the zero vector exactly.
  CHECK(integer_atan2_code(0, 0) == 0);
  CHECK(integer_atan2_code(0, 5) == 0);
  CHECK(integer_atan2_code(5, 0) == 64);
  CHECK(integer_atan2_code(0, -5) == 128);
  CHECK(integer_atan2_code(-5, 0) == 192);
  CHECK(integer_atan2_code(7, 7) == 32);    // 1/8 turn
  CHECK(integer_atan2_code(-7, -7) == 160);  // 5/8
  CHECK(integer_atan2_code(0, kMin) == 128);
  CHECK(integer_atan2_code(kMin, kMin) == 160);
  CHECK(integer_atan2_code(kMax, 0) == 64);
  // Wraparound near angle 0: just below is 255, just above is 0.
  CHECK(integer_atan2_code(-1, 1000) == 255);
  CHECK(integer_atan2_code(-1, 1'000'000'000) == 255);
  CHECK(integer_atan2_code(1, 1000) == 0);
  CHECK(integer_atan2_code(-1, -1000) == 128);  // just past 1/2 turn
  CHECK(integer_atan2_code(1, -1000) == 127);

  // A grid (with the axes) and large values: within one step everywhere, exact nearly everywhere.
  int total = 0, exact = 0, far = 0;
  for (int scale : {1, 1000, 1 << 20}) {
    for (int y = -60; y <= 60; ++y)
      for (int x = -60; x <= 60; ++x) {
        if (x == 0 && y == 0) continue;
        const std::int64_t X = std::int64_t(x) * scale + (scale > 1 ? x * 7 : 0), Y = std::int64_t(y) * scale;
        const int got = integer_atan2_code(std::int32_t(Y), std::int32_t(X)), want = exact_code(Y, X);
        ++total;
        exact += got == want;
        if (circular_distance(got, want) > 1) {
          ++far;
          UNSCOPED_INFO("(x, y) = (" << X << ", " << Y << "): code " << got << ", exact " << want);
        }
      }
  }
  CHECK(far == 0);
  // Not all: the +7x perturbation puts some points within 2^-16 turn of a code boundary.
  CHECK(double(exact) / total > 0.99);
  // The binary angle itself: within 2^-15 turn of the true angle on random vectors.
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::int32_t> v(kMin + 1, kMax);
  for (int i = 0; i < 20000; ++i) {
    const std::int32_t x = v(rng) >> (i % 31), y = v(rng) >> ((i / 31) % 31);
    if (x == 0 && y == 0) continue;
    long double u = std::atan2((long double)y, (long double)x) / (2 * std::numbers::pi_v<long double>);
    u -= std::floor(u);
    const long double got = integer_atan2_binary_angle(y, x) / 4294967296.0L;
    long double d = std::fabs(got - u);
    d = std::min(d, 1 - d);
    REQUIRE(d < std::ldexp(1.0L, -15));
  }
}
