// torusC's Clifford map as a tape op (nn/clifford_torus): its value is the geometry kernel bit for
// bit (float and double, large |h|, zero), the wrap-first convention keeps float accurate at
// large |h|, and the gradient (checked against finite differences, also across torusC's wrap) is
// periodic in h.
#include "test_util.hpp"

#include "geometry/clifford_torus.hpp"
#include "nn/clifford_torus.hpp"
#include "nn/flat_torus.hpp"

#include <cmath>
#include <numbers>

using namespace torus;
using namespace torus::nn;
using torus::testing::analytic_grads;
using torus::testing::random_tensor;
using torus::testing::require_gradients;
using torus::testing::values;
using V = Var<double>;
using Vs = std::vector<V>;

namespace {
template <typename T>
void check_single_path() {
  const int64_t N = 3, D = 4;
  Tensor<T> h(Shape{N, D}, std::vector<T>{T(0), T(0.25), T(-0.5), T(0.999), T(1000.3), T(-2047.7), T(1048576.25), T(-3),
                                         T(1e-30), T(-1e-20), T(12345.678), T(0.5)});
  Tape<T> tape;
  Var<T> c = clifford_project(tape.constant(h));
  REQUIRE(c.shape() == Shape{N, 2 * D});
  const geometry::RowMatrix<T> kernel = geometry::clifford_project<T>(h.matrix(N, D));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < 2 * D; ++j) {
      INFO("row " << n << ", column " << j);
      CHECK(c.value()[n * 2 * D + j] == kernel(n, j));
    }
}
}  // namespace

TEST_CASE("clifford_project computes its value with the geometry kernel, bit for bit", "[nn][single-path]") {
  check_single_path<float>();
  check_single_path<double>();
}

TEST_CASE("clifford_project wraps before forming 2 pi h: float stays accurate at large |h|", "[nn][clifford]") {
  // float 2 pi h at h ~ 1000 is already off by ~5e-4 rad; wrapping first loses nothing
  for (float hf : {1000.3f, -2047.7f, 100000.25f, 4194303.5f}) {
    INFO("h = " << hf);
    Tape<float> tape;
    Var<float> c = clifford_project(tape.constant(Tensor<float>(Shape{1, 1}, std::vector<float>{hf})));
    const double turns = double(hf) - std::floor(double(hf));  // exact: hf is a float
    CHECK(std::abs(c.value()[0] - std::cos(2 * std::numbers::pi * turns)) < 1e-6);
    CHECK(std::abs(c.value()[1] - std::sin(2 * std::numbers::pi * turns)) < 1e-6);
  }
}

TEST_CASE("the Clifford map: block order, gradient, and periodicity of value and gradient", "[nn][gradcheck]") {
  const auto h = random_tensor({2, 3}, 72, -2.0, 2.0);
  require_gradients([](Tape<double>&, const Vs& v) { return clifford_project(v[0]); }, {h});
  Tape<double> tape;
  V c = clifford_project(tape.constant(values({1, 2}, {0.25, 0.5})));
  CHECK(c.value()[0] == Approx(0.0).margin(1e-15));   // cos(pi/2)
  CHECK(c.value()[1] == Approx(-1.0));                // cos(pi)
  CHECK(c.value()[2] == Approx(1.0));                 // sin(pi/2)
  CHECK(c.value()[3] == Approx(0.0).margin(1e-15));   // sin(pi)
  // integer shifts change neither the value nor the gradient
  auto f = [](Tape<double>&, const Vs& v) { return sum(clifford_project(v[0]) * clifford_project(v[0])) + sum(sin(clifford_project(v[0]))); };
  Tensor<double> shifted = h;
  for (int i = 0; i < shifted.numel(); ++i) shifted[i] += double((i % 3) - 1) * 7.0;
  const auto g0 = analytic_grads(f, {h})[0], g1 = analytic_grads(f, {shifted})[0];
  for (int i = 0; i < h.numel(); ++i) CHECK(g1[i] == Approx(g0[i]).margin(1e-9));
  // rank 3, a zero coordinate, and exact integers (the wrap points) by hand: dh = 2 pi (c dsin - s dcos)
  const auto g = analytic_grads([](Tape<double>& t, const Vs& v) {
    return sum(clifford_project(v[0]) * t.constant(values({1, 1, 4}, {1.0, 2.0, -1.0, 0.5})));
  }, {values({1, 1, 2}, {0.0, 3.0})})[0];
  CHECK(g[0] == Approx(2 * std::numbers::pi * -1.0));  // cos 0 = 1, sin 0 = 0: 2 pi (1 (-1) - 0)
  CHECK(g[1] == Approx(2 * std::numbers::pi * 0.5));
}

TEST_CASE("torusC wraps its coordinates: bounded values, gradient 1 through the wrap", "[nn][gradcheck]") {
  // a head in torusC mode ends in wrap01; points 5e-4 from an integer, probed on one side
  const auto h = values({1, 4}, {0.9995, 1.0005, -3.0005, 1e6 + 0.25});
  require_gradients([](Tape<double>&, const Vs& v) { return clifford_project(wrap01(v[0])); }, {h});
  Tape<float> tape;
  Var<float> z = wrap01(tape.constant(Tensor<float>(Shape{3}, {1048576.25f, -1048575.75f, 0.25f})));
  for (int i = 0; i < 3; ++i) CHECK(z.value()[i] == 0.25f);  // huge coordinates come back to [0, 1) exactly
}
