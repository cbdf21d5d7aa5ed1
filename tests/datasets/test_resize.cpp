// resize_planes: exact copies, exact block means when shrinking by whole factors, bilinear
// values between pixel centres when growing, constants preserved at any ratio.
#include <catch2/catch.hpp>

#include "datasets/resize.hpp"

#include <vector>

using namespace torus::datasets;

TEST_CASE("resizing to the same size copies exactly", "[datasets][resize]") {
  std::vector<float> src(2 * 3 * 5), dst(src.size());
  for (size_t i = 0; i < src.size(); ++i) src[i] = 0.1f * float(i) + 0.013f;
  resize_planes(src.data(), 2, 3, 5, dst.data(), 3, 5);
  CHECK(dst == src);
}

TEST_CASE("shrinking averages the covered area", "[datasets][resize]") {
  // 4x4 -> 2x2: the mean of each 2x2 block
  const std::vector<float> src = {1, 3, 10, 20,  //
                                  5, 7, 30, 40,  //
                                  0, 0, 8, 8,    //
                                  4, 4, 8, 0};
  std::vector<float> dst(4);
  resize_planes(src.data(), 1, 4, 4, dst.data(), 2, 2);
  CHECK(dst[0] == Approx(4.0f));
  CHECK(dst[1] == Approx(25.0f));
  CHECK(dst[2] == Approx(2.0f));
  CHECK(dst[3] == Approx(6.0f));
  // 1x3 -> 1x2: output 0 covers [0, 1.5): pixel 0 fully and half of pixel 1
  const std::vector<float> row = {3, 6, 9};
  std::vector<float> two(2);
  resize_planes(row.data(), 1, 1, 3, two.data(), 1, 2);
  CHECK(two[0] == Approx((3 * 1.0 + 6 * 0.5) / 1.5));
  CHECK(two[1] == Approx((6 * 0.5 + 9 * 1.0) / 1.5));
}

TEST_CASE("growing interpolates between pixel centres", "[datasets][resize]") {
  // 1x2 -> 1x4: centres at input -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
  const std::vector<float> src = {0, 200};
  std::vector<float> dst(4);
  resize_planes(src.data(), 1, 1, 2, dst.data(), 1, 4);
  CHECK(dst[0] == Approx(0));
  CHECK(dst[1] == Approx(50));
  CHECK(dst[2] == Approx(150));
  CHECK(dst[3] == Approx(200));
  // one axis shrinks while the other grows, channel by channel
  std::vector<float> plane(2 * 4 * 2), out(2 * 2 * 3);
  for (size_t i = 0; i < plane.size(); ++i) plane[i] = i < 8 ? 7.0f : -2.5f;
  resize_planes(plane.data(), 2, 4, 2, out.data(), 2, 3);
  for (size_t i = 0; i < out.size(); ++i) CHECK(out[i] == Approx(i < 6 ? 7.0f : -2.5f));
}

TEST_CASE("resizing refuses empty sizes", "[datasets][resize]") {
  float v = 0;
  CHECK_THROWS_AS(resize_planes(&v, 1, 1, 1, &v, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(resize_planes(&v, 0, 1, 1, &v, 1, 1), std::invalid_argument);
}
