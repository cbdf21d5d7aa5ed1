// The spherization layer against method.md 14: the phi_L table, the norm r, positivity, the closed
// form, gradients (also saturated), the per-pixel variant.
#include "test_util.hpp"

#include "nn/spherization.hpp"

#include <cmath>

using namespace torus;
using namespace torus::nn;
using torus::testing::random_tensor;
using torus::testing::require_gradients;
using V = Var<double>;
using Vs = std::vector<V>;

TEST_CASE("phi_L matches method.md's table", "[nn][oracle]") {
  const std::pair<int64_t, double> table[] = {{1, 1e-6}, {2, 0.0010}, {3, 0.0100}, {10, 0.2539},
                                              {84, 1.0129}, {300, 1.2696}, {512, 1.3395}, {4096, 1.4887}};
  for (const auto& [n, phi] : table) {
    INFO("n = " << n);
    CHECK(spherization_lower_angle(n, 1e-6) == Approx(phi).margin(phi < 1e-3 ? 1e-9 : 1e-4));  // table: 4 decimals
  }
  CHECK_THROWS_AS(spherization_lower_angle(0, 1e-6), std::invalid_argument);
}

TEST_CASE("outputs lie on the sphere of radius r, all positive, up to n = 4096", "[nn][oracle]") {
  for (int64_t n : {1, 2, 3, 10, 84, 300, 4096}) {
    INFO("n = " << n);
    SpherizationOptions opt;
    opt.scale = 5;
    opt.radius = 5;
    Spherization<double> sph(n, opt);
    Tape<double> tape;
    V y = sph(tape.constant(random_tensor({4, n}, 80 + n, -3.0, 3.0)));
    REQUIRE(y.shape() == Shape{4, n + 1});
    const auto Y = y.value().matrix(4, n + 1);
    for (int i = 0; i < 4; ++i) CHECK(Y.row(i).norm() == Approx(5.0).epsilon(1e-3));
    CHECK(Y.minCoeff() > 0);
  }
}

TEST_CASE("coordinates match the closed-form hyperspherical coordinates", "[nn][oracle]") {
  const int64_t n = 5;
  Spherization<double> sph(n);
  Tape<double> tape;
  const auto x = random_tensor({1, n}, 90);
  V y = sph(tape.constant(x));
  const double phi = sph.lower_angle(), half_pi = 3.141592 / 2;
  std::vector<double> theta(n);
  for (int i = 0; i < n; ++i) theta[i] = (half_pi - phi) / (1 + std::exp(-x[i])) + phi;
  double sines = 1;
  for (int j = 0; j < n; ++j) {
    CHECK(y.value()[j] == Approx(sines * std::cos(theta[j])).epsilon(1e-4));
    sines *= std::sin(theta[j]);
  }
  CHECK(y.value()[n] == Approx(sines).epsilon(1e-4));
}

TEST_CASE("spherization gradients: input, learnable scale and radius, saturated angles", "[nn][gradcheck]") {
  // y(x; s, r) = r * y(s x; 1, 1): s and r enter as checker inputs around a unit layer
  // (a layer must outlive the tapes that use it: its parameters are read and written in place)
  Spherization<double> unit(4);
  auto f = [&unit](Tape<double>&, const Vs& v) { return unit(v[0] * v[1]) * v[2]; };
  require_gradients(f, {random_tensor({3, 4}, 91, -2.0, 2.0), Tensor<double>(Shape{1}, 1.7), Tensor<double>(Shape{1}, 2.5)});
  // saturated angularisation: sigmoid near 0 and 1, theta at its bounds
  const auto big = Tensor<double>(Shape{1, 4}, {-9.0, -6.0, 6.0, 9.0});
  require_gradients([&unit](Tape<double>&, const Vs& v) { return unit(v[0]); }, {big});
  // and the learnable parameters receive gradients through the layer itself
  SpherizationOptions opt;
  opt.scale = opt.radius = 5.0;
  opt.learn_radius = true;
  Spherization<double> sph(3, opt);
  Tape<double> tape;
  tape.backward(sum(sph(tape.constant(random_tensor({2, 3}, 92))) * tape.constant(random_tensor({2, 4}, 93))));
  CHECK(std::abs(sph.scale.grad[0]) > 0);
  CHECK(std::abs(sph.radius.grad[0]) > 0);
  CHECK(sph.parameters().size() == 2);
}

TEST_CASE("per-pixel spherization over the channels of an NCHW tensor", "[nn][gradcheck]") {
  const auto x = random_tensor({2, 3, 2, 2}, 94);
  Spherization<double> sph(3);
  require_gradients([&sph](Tape<double>&, const Vs& v) { return sph(v[0]); }, {x});
  Tape<double> tape;
  V y = sph(tape.constant(x));
  REQUIRE(y.shape() == Shape{2, 4, 2, 2});
  // pixel (b=1, h=0, w=1) equals the row version applied to that pixel's channels
  Tensor<double> pixel(Shape{1, 3});
  for (int c = 0; c < 3; ++c) pixel[c] = x[((1 * 3 + c) * 2 + 0) * 2 + 1];
  V row = sph(tape.constant(pixel));
  for (int c = 0; c < 4; ++c) CHECK(y.value()[((1 * 4 + c) * 2 + 0) * 2 + 1] == Approx(row.value()[c]));
  CHECK_THROWS_AS(sph(tape.constant(Tensor<double>(Shape{2, 5}))), ShapeError);
}

TEST_CASE("SphericLinear: spherization then a bias-free linear layer", "[nn][gradcheck]") {
  std::mt19937_64 rng(3);
  SphericLinear<double> layer(5, 3, rng);
  CHECK_FALSE(layer.linear.has_bias);
  CHECK(layer.linear.weight.value.shape() == Shape{3, 6});
  const auto names = layer.parameters();
  REQUIRE(names.size() == 2);
  CHECK(names[0].first == "spherization.scale");
  CHECK(names[1].first == "linear.weight");
  require_gradients([&layer](Tape<double>&, const Vs& v) { return layer(v[0]); }, {random_tensor({2, 5}, 95)});
  // logit = r |w| cos(angle): a zero input maps to the sphere point with every theta at the middle
  Tape<double> tape;
  CHECK(layer(tape.constant(Tensor<double>(Shape{1, 5}))).shape() == Shape{1, 3});
}
