// Tensor is a value type: deep copies, cheap moves, capacity kept across resizes.
#include <catch2/catch.hpp>

#include "autodiff/tensor.hpp"

using namespace torus;

TEST_CASE("a copy is deep and a move is cheap", "[tensor]") {
  Tensor<float> a(Shape{2, 3}, 1.5f);
  Tensor<float> b = a;
  b[0] = 7.0f;
  CHECK(a[0] == 1.5f);
  CHECK(b[0] == 7.0f);
  const float* storage = a.data();
  Tensor<float> c = std::move(a);
  CHECK(c.data() == storage);  // the buffer changed hands, nothing was copied
  CHECK(c.shape() == Shape{2, 3});
}

TEST_CASE("resize keeps capacity so reused buffers stop allocating", "[tensor]") {
  Tensor<double> t(Shape{64, 64});
  const double* storage = t.data();
  t.resize(Shape{8, 8});
  t.resize(Shape{32, 128});
  CHECK(t.data() == storage);
  CHECK(t.numel() == 4096);
}

TEST_CASE("shapes: rank 4 NCHW, printing, axes and errors", "[tensor]") {
  const Shape s{2, 3, 28, 28};
  CHECK(s.rank() == 4);
  CHECK(s.numel() == 2 * 3 * 28 * 28);
  CHECK(s.str() == "[2, 3, 28, 28]");
  CHECK(s.normalize_axis(-1, "op") == 3);
  CHECK_THROWS_AS(s.normalize_axis(4, "op"), ShapeError);
  CHECK(Shape{}.numel() == 1);
  CHECK(Shape{}.str() == "[]");
  CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5, 6, 7}), ShapeError);
  CHECK_THROWS_AS(Shape({2, -1}), ShapeError);
  CHECK_THROWS_WITH(Tensor<float>(Shape{2, 2}, std::vector<float>{1, 2, 3}),
                    Catch::Contains("[2, 2]") && Catch::Contains("got 3"));
  CHECK_THROWS_AS(Tensor<float>(Shape{2, 2}).item(), ShapeError);
}

TEST_CASE("shape products are overflow-checked: dimensions come from files", "[tensor]") {
  // The checkpoint header that made Shape::numel overflow on its way to the zero.
  CHECK(Shape({3037000500, 3037000500, 0}).numel() == 0);
  CHECK_THROWS_WITH(Shape({3037000500, 3037000500, 1}), Catch::Contains("[3037000500, 3037000500, 1]") &&
                                                           Catch::Contains("more elements than int64"));
  CHECK(Shape({int64_t(1) << 31, int64_t(1) << 31}).numel() == int64_t(1) << 62);
  Shape s{4, 4};
  s[1] = int64_t(1) << 62;  // a dimension set in place is checked too
  CHECK_THROWS_AS(s.numel(), ShapeError);
}

TEST_CASE("Eigen maps are row-major views of the storage", "[tensor]") {
  Tensor<float> t(Shape{2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  auto m = t.matrix(2, 3);
  CHECK(m(1, 0) == 4.0f);
  m(0, 2) = 9.0f;
  CHECK(t[2] == 9.0f);
  CHECK(t.array().sum() == 1 + 2 + 9 + 4 + 5 + 6);
  CHECK_THROWS_AS(t.matrix(4, 2), ShapeError);
}
