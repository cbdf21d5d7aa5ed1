// IEEE binary16 round trip: known bit patterns (1.0, 65504, the overflow threshold, subnormals,
// ties to even, signed zero, inf, NaN), every one of the 65536 halves back and forth, and random
// floats against the compiler's _Float16 where it has one.
#include <catch2/catch.hpp>

#include "geometry/float16.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

using namespace torus::geometry;

TEST_CASE("float_to_half_bits on known values", "[geometry][float16]") {
  CHECK(float_to_half_bits(1.0f) == 0x3c00);
  CHECK(float_to_half_bits(-2.0f) == 0xc000);
  CHECK(float_to_half_bits(0.5f) == 0x3800);
  CHECK(float_to_half_bits(1.0f / 3.0f) == 0x3555);   // 0.333251953125
  CHECK(float_to_half_bits(65504.0f) == 0x7bff);      // the largest half
  CHECK(float_to_half_bits(65519.996f) == 0x7bff);    // just below the halfway point 65520
  CHECK(float_to_half_bits(65520.0f) == 0x7c00);      // halfway: the tie goes to 2^16 = inf
  CHECK(float_to_half_bits(-1e10f) == 0xfc00);
  CHECK(float_to_half_bits(0.0f) == 0x0000);
  CHECK(float_to_half_bits(-0.0f) == 0x8000);
  // subnormals: unit 2^-24
  CHECK(float_to_half_bits(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(float_to_half_bits(std::ldexp(1023.0f, -24)) == 0x03ff);  // the largest subnormal
  CHECK(float_to_half_bits(std::ldexp(1.0f, -14)) == 0x0400);     // the smallest normal
  CHECK(float_to_half_bits(std::ldexp(1023.5f, -24)) == 0x0400);  // a tie rounding up into the normals (1023 is odd)
  CHECK(float_to_half_bits(std::ldexp(1.0f, -25)) == 0x0000);     // tie between 0 and 2^-24: even is 0
  CHECK(float_to_half_bits(std::nextafter(std::ldexp(1.0f, -25), 1.0f)) == 0x0001);
  CHECK(float_to_half_bits(std::ldexp(3.0f, -25)) == 0x0002);     // 1.5 units: tie to even 2
  CHECK(float_to_half_bits(std::ldexp(5.0f, -25)) == 0x0002);     // 2.5 units: tie to even 2
  CHECK(float_to_half_bits(-std::ldexp(1.0f, -26)) == 0x8000);
  CHECK(float_to_half_bits(std::numeric_limits<float>::denorm_min()) == 0x0000);
  // ties to even among normals: the half spacing at 1 is 2^-10
  CHECK(float_to_half_bits(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);       // between 0x3c00 and 0x3c01
  CHECK(float_to_half_bits(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);       // between 0x3c01 and 0x3c02
  CHECK(float_to_half_bits(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)) == 0x3c01);
  CHECK(float_to_half_bits(2049.0f) == 0x6800);  // 2048 and 2050 are neighbours: 2048 is even
  CHECK(float_to_half_bits(2051.0f) == 0x6802);  // 2052
  CHECK(float_to_half_bits(2047.0f) == 0x67ff);  // exact (spacing 1 below 2048)
  // inf and NaN
  CHECK(float_to_half_bits(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK(float_to_half_bits(-std::numeric_limits<float>::infinity()) == 0xfc00);
  const std::uint16_t nan = float_to_half_bits(std::numeric_limits<float>::quiet_NaN());
  CHECK((nan & 0x7c00) == 0x7c00);
  CHECK((nan & 0x03ff) != 0);
  // a NaN whose payload sits only in the low 13 bits must stay NaN, not become inf
  const std::uint16_t low_nan = float_to_half_bits(std::bit_cast<float>(0xff800001u));
  CHECK((low_nan & 0x7c00) == 0x7c00);
  CHECK((low_nan & 0x03ff) != 0);
  CHECK((low_nan & 0x8000) == 0x8000);
}

TEST_CASE("half_bits_to_float on known values", "[geometry][float16]") {
  CHECK(half_bits_to_float(0x3c00) == 1.0f);
  CHECK(half_bits_to_float(0x7bff) == 65504.0f);
  CHECK(half_bits_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(half_bits_to_float(0x03ff) == std::ldexp(1023.0f, -24));
  CHECK(half_bits_to_float(0x0400) == std::ldexp(1.0f, -14));
  CHECK(half_bits_to_float(0x3555) == 0.333251953125f);
  CHECK(half_bits_to_float(0xc000) == -2.0f);
  CHECK(std::signbit(half_bits_to_float(0x8000)));
  CHECK(half_bits_to_float(0x8000) == 0.0f);
  CHECK(half_bits_to_float(0x7c00) == std::numeric_limits<float>::infinity());
  CHECK(half_bits_to_float(0xfc00) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(half_bits_to_float(0x7e00)));
  CHECK(std::isnan(half_bits_to_float(0x7c01)));
  CHECK(round_to_half(0.1f) == 0.0999755859375f);
  CHECK(round_to_half(1e-8f) == 0.0f);
}

TEST_CASE("every half survives half -> float -> half", "[geometry][float16]") {
  int failures = 0;
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    const float f = half_bits_to_float(bits);
    const bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0;
    const bool ok = is_nan ? std::isnan(f) && (float_to_half_bits(f) & 0x7fff) > 0x7c00 : float_to_half_bits(f) == bits;
    failures += !ok;
  }
  CHECK(failures == 0);
}

TEST_CASE("float_to_half_bits matches _Float16 on random floats", "[geometry][float16]") {
#if defined(__FLT16_MANT_DIG__)
  std::mt19937_64 rng(7);
  int failures = 0, checked = 0;
  for (int t = 0; t < 400000; ++t) {
    // random bit patterns cover every exponent; also values near the half range
    float f = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
    if (t % 2) f = std::ldexp(static_cast<float>(rng() % 2000000) / 1e6f - 1.0f, static_cast<int>(rng() % 44) - 28);
    if (std::isnan(f)) continue;
    const auto ref = std::bit_cast<std::uint16_t>(static_cast<_Float16>(f));
    failures += float_to_half_bits(f) != ref;
    failures += half_bits_to_float(ref) != static_cast<float>(std::bit_cast<_Float16>(ref));
    ++checked;
  }
  INFO(checked << " floats checked");
  CHECK(failures == 0);
#else
  WARN("no _Float16 in this compiler: only the hand-checked values apply");
#endif
}

TEST_CASE("half_round_trip on a matrix", "[geometry][float16]") {
  RowMatrix<float> x(2, 3);
  x << 1.0f, 65504.0f, 70000.0f,
       -0.0f, 2049.0f, std::ldexp(1.0f, -24);
  const RowMatrix<std::uint16_t> h = encode_half(x);
  CHECK(h(0, 0) == 0x3c00);
  CHECK(h(0, 2) == 0x7c00);
  CHECK(h(1, 0) == 0x8000);
  const RowMatrix<float> back = half_round_trip(x);
  CHECK(back(0, 1) == 65504.0f);
  CHECK(std::isinf(back(0, 2)));
  CHECK(back(1, 1) == 2048.0f);
  CHECK(back(1, 2) == std::ldexp(1.0f, -24));
  CHECK(decode_half(h) == back);
}
