// Gradient checks of the elementwise primitives and composites, on random inputs and on the edge
// cases each op has: broadcasting, kinks (probed off the kink), saturation, large magnitudes.
#include "test_util.hpp"

using namespace torus;
using torus::testing::random_tensor;
using torus::testing::require_gradients;
using torus::testing::values;
using V = Var<double>;
using Vs = std::vector<V>;

TEST_CASE("binary ops: same shape, random", "[gradcheck]") {
  const auto a = random_tensor({3, 4}, 1), b = random_tensor({3, 4}, 2, 0.5, 2.0);
  require_gradients([](Tape<double>&, const Vs& x) { return x[0] + x[1]; }, {a, b});
  require_gradients([](Tape<double>&, const Vs& x) { return x[0] - x[1]; }, {a, b});
  require_gradients([](Tape<double>&, const Vs& x) { return x[0] * x[1]; }, {a, b});
  require_gradients([](Tape<double>&, const Vs& x) { return x[0] / x[1]; }, {a, b});
}

TEST_CASE("binary ops: broadcasting over leading dims, rows, columns and scalars", "[gradcheck]") {
  const auto big = random_tensor({2, 3, 4}, 3, 0.5, 1.5);
  const auto row = random_tensor({4}, 4, 0.5, 1.5);
  const auto col = random_tensor({3, 1}, 5, 0.5, 1.5);
  const auto one = random_tensor({}, 6, 0.5, 1.5);
  const auto lead = random_tensor({2, 1, 4}, 7, 0.5, 1.5);
  for (const auto* small : {&row, &col, &one, &lead}) {
    INFO("broadcast operand shape " << small->shape().str());
    require_gradients([](Tape<double>&, const Vs& x) { return x[0] + x[1]; }, {big, *small});
    require_gradients([](Tape<double>&, const Vs& x) { return x[1] - x[0]; }, {big, *small});
    require_gradients([](Tape<double>&, const Vs& x) { return x[0] * x[1]; }, {big, *small});
    require_gradients([](Tape<double>&, const Vs& x) { return x[0] / x[1]; }, {big, *small});
    require_gradients([](Tape<double>&, const Vs& x) { return x[1] / x[0]; }, {big, *small});
  }
  // both operands broadcast: (3, 1) against (1, 4)
  require_gradients([](Tape<double>&, const Vs& x) { return x[0] * x[1]; }, {col, random_tensor({1, 4}, 8)});
}

TEST_CASE("scalar arithmetic and neg are affine", "[gradcheck]") {
  const auto a = random_tensor({5}, 9, 0.5, 2.0);
  require_gradients([](Tape<double>&, const Vs& x) { return -x[0]; }, {a});
  require_gradients([](Tape<double>&, const Vs& x) { return neg(x[0]); }, {a});
  require_gradients([](Tape<double>&, const Vs& x) { return 2.5 * x[0] + 1.0; }, {a});
  require_gradients([](Tape<double>&, const Vs& x) { return 3.0 - x[0] / 4.0; }, {a});
  require_gradients([](Tape<double>&, const Vs& x) { return x[0] * -0.5 - 2.0; }, {a});
  require_gradients([](Tape<double>&, const Vs& x) { return 2.0 / x[0]; }, {a});
  require_gradients([](Tape<double>&, const Vs& x) { return affine(x[0], 0.0, 3.0); }, {a});  // constant output
}

TEST_CASE("smooth unary ops, random inputs", "[gradcheck]") {
  const auto x = random_tensor({2, 5}, 10, -2.0, 2.0);
  const auto pos = random_tensor({2, 5}, 11, 0.1, 3.0);
  require_gradients([](Tape<double>&, const Vs& v) { return exp(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return log(v[0]); }, {pos});
  require_gradients([](Tape<double>&, const Vs& v) { return sqrt(v[0]); }, {pos});
  require_gradients([](Tape<double>&, const Vs& v) { return sin(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return cos(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return tanh(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return sigmoid(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return softplus(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return gelu(v[0]); }, {x});
  for (double p : {2.0, 3.0, 0.5, -1.0, -2.5, 0.0}) {
    INFO("exponent " << p);
    require_gradients([p](Tape<double>&, const Vs& v) { return pow(v[0], p); }, {pos});
  }
  require_gradients([](Tape<double>&, const Vs& v) { return pow(v[0], 3.0); }, {x});  // integer power of negatives
}

TEST_CASE("piecewise unary ops, probed off their kinks", "[gradcheck]") {
  // values at least 0.05 from every kink (0 for abs/relu/leaky_relu, the bounds for clamp)
  const auto x = values({8}, {-1.5, -0.7, -0.2, -0.05, 0.05, 0.3, 0.8, 1.7});
  require_gradients([](Tape<double>&, const Vs& v) { return abs(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return relu(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return leaky_relu(v[0], 0.1); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return clamp(v[0], -0.5, 0.5); }, {x});
}

TEST_CASE("saturated and large-magnitude inputs keep finite, correct gradients", "[gradcheck]") {
  const auto big = values({6}, {-40.0, -25.0, -12.0, 12.0, 25.0, 40.0});
  require_gradients([](Tape<double>&, const Vs& v) { return sigmoid(v[0]); }, {big});
  require_gradients([](Tape<double>&, const Vs& v) { return tanh(v[0]); }, {big});
  require_gradients([](Tape<double>&, const Vs& v) { return softplus(v[0]); }, {big});
  require_gradients([](Tape<double>&, const Vs& v) { return gelu(v[0]); }, {big});
  const auto huge = values({4}, {-800.0, -50.0, 50.0, 800.0});
  const auto g = torus::testing::analytic_grads([](Tape<double>&, const Vs& v) { return softplus(v[0]); }, {huge});
  CHECK(g[0][0] == 0.0);  // sigmoid(-800) underflows to exactly 0
  CHECK(g[0][3] == 1.0);
  const auto gs = torus::testing::analytic_grads([](Tape<double>&, const Vs& v) { return sigmoid(v[0]); }, {huge});
  for (int i = 0; i < 4; ++i) CHECK(std::isfinite(gs[0][i]));
}

TEST_CASE("atan2: random points in all four quadrants", "[gradcheck]") {
  const auto y = values({6}, {0.3, -0.7, 1.2, -0.4, 0.9, -2.0});
  const auto x = values({6}, {0.8, 0.5, -0.6, -1.1, 1e-3, 0.2});  // x = 1e-3: near the y axis
  require_gradients([](Tape<double>&, const Vs& v) { return atan2(v[0], v[1]); }, {y, x});
}
