// Exact values: hand-computed results, the subgradient chosen at each kink, numerical stability
// at the extremes, and the errors bad shapes raise.
#include "test_util.hpp"

#include <limits>

using namespace torus;
using torus::testing::analytic_grads;
using torus::testing::values;
using V = Var<double>;
using Vs = std::vector<V>;

static const double kInf = std::numeric_limits<double>::infinity();

TEST_CASE("broadcast gradient of a 3x1 + 3x4 sum is 4 per row", "[values]") {
  const auto g = analytic_grads([](Tape<double>&, const Vs& v) { return sum(v[0] + v[1]); },
                                {Tensor<double>(Shape{3, 1}, 1.0), Tensor<double>(Shape{3, 4}, 2.0)});
  REQUIRE(g[0].shape() == Shape{3, 1});
  for (int i = 0; i < 3; ++i) CHECK(g[0][i] == 4.0);
  for (int i = 0; i < 12; ++i) CHECK(g[1][i] == 1.0);
}

TEST_CASE("broadcast product: row vector gradient sums over rows", "[values]") {
  // out = a (2x3) * r (3); d/dr_j = sum_i a_ij
  const auto a = values({2, 3}, {1, 2, 3, 4, 5, 6});
  const auto r = values({3}, {10, 20, 30});
  Tape<double> tape;
  V va = tape.variable(a), vr = tape.variable(r);
  V out = va * vr;
  CHECK(out.value()[4] == 100.0);
  tape.backward(sum(out));
  CHECK(vr.grad()[0] == 5.0);
  CHECK(vr.grad()[1] == 7.0);
  CHECK(vr.grad()[2] == 9.0);
  CHECK(va.grad()[5] == 30.0);
}

TEST_CASE("matmul values for a 2x2 case", "[values]") {
  const auto a = values({2, 2}, {1, 2, 3, 4}), b = values({2, 2}, {5, 6, 7, 8});
  Tape<double> tape;
  V c = matmul(tape.variable(a), tape.variable(b));
  CHECK(c.value()[0] == 19.0);
  CHECK(c.value()[3] == 50.0);
  V ct = matmul(tape.variable(a), tape.variable(b), true, true);  // a^T b^T = (b a)^T
  CHECK(ct.value()[0] == 23.0);  // (b a)[0][0] = 5*1 + 6*3
  CHECK(ct.value()[1] == 31.0);  // (b a)[1][0] = 7*1 + 8*3
}

TEST_CASE("subgradients at kinks are the documented ones", "[values]") {
  const auto zero = values({1}, {0.0});
  CHECK(analytic_grads([](Tape<double>&, const Vs& v) { return abs(v[0]); }, {zero})[0][0] == 0.0);
  CHECK(analytic_grads([](Tape<double>&, const Vs& v) { return relu(v[0]); }, {zero})[0][0] == 0.0);
  CHECK(analytic_grads([](Tape<double>&, const Vs& v) { return leaky_relu(v[0], 0.2); }, {zero})[0][0] == 0.2);
  const auto at_bounds = values({2}, {-1.0, 1.0});
  const auto gc = analytic_grads([](Tape<double>&, const Vs& v) { return clamp(v[0], -1.0, 1.0); }, {at_bounds})[0];
  CHECK(gc[0] == 1.0);
  CHECK(gc[1] == 1.0);
  // ties in max: the first maximum takes the whole gradient
  const auto tie = values({4}, {1.0, 3.0, 3.0, 2.0});
  const auto gm = analytic_grads([](Tape<double>&, const Vs& v) { return max(v[0]); }, {tie})[0];
  CHECK(gm[1] == 1.0);
  CHECK(gm[2] == 0.0);
  // atan2 at the origin: value 0, gradient (0, 0), never NaN
  const auto g0 = analytic_grads([](Tape<double>&, const Vs& v) { return atan2(v[0], v[1]); }, {zero, zero});
  CHECK(g0[0][0] == 0.0);
  CHECK(g0[1][0] == 0.0);
  // sqrt at 0: the true derivative, +inf (callers clamp before sqrt)
  CHECK(analytic_grads([](Tape<double>&, const Vs& v) { return sqrt(v[0]); }, {zero})[0][0] == kInf);
  // pow(x, 0) has zero gradient even at x = 0
  CHECK(analytic_grads([](Tape<double>&, const Vs& v) { return pow(v[0], 0.0); }, {zero})[0][0] == 0.0);
}

TEST_CASE("logsumexp and log_softmax are stable for all -inf rows and +-1e30", "[values]") {
  const auto x = values({3, 2}, {-kInf, -kInf, 1e30, 1e30, 1e30, -1e30});
  Tape<double> tape;
  V v = tape.variable(x);
  V lse = logsumexp(v, 1);
  CHECK(lse.value()[0] == -kInf);
  CHECK(lse.value()[1] == Approx(1e30));
  CHECK(lse.value()[2] == 1e30);
  V ls = log_softmax(v, 1);
  CHECK(ls.value()[0] == -kInf);
  CHECK(ls.value()[2] == Approx(-std::log(2.0)));
  CHECK(ls.value()[3] == Approx(-std::log(2.0)));
  CHECK(ls.value()[4] == 0.0);
  CHECK(ls.value()[5] == -2e30);
  V sm = softmax(v, 1);
  CHECK(sm.value()[0] == 0.0);
  CHECK(sm.value()[2] == Approx(0.5));
  CHECK(sm.value()[4] == 1.0);
  CHECK(sm.value()[5] == 0.0);
  // gradients: finite everywhere, zero on the dead row, softmax weights on the others
  tape.backward(sum(lse) + sum(masked_fill(ls, Tensor<double>(Shape{3, 2}, std::vector<double>{1, 1, 0, 0, 0, 0}), 0.0)));
  const Tensor<double>& g = v.grad();
  for (int i = 0; i < 6; ++i) CHECK(std::isfinite(g[i]));
  CHECK(g[0] == 0.0);
  CHECK(g[1] == 0.0);
  CHECK(g[2] == Approx(0.5));  // d lse = 0.5; d sum(log_softmax) = 1 - 2 * 0.5 = 0
  CHECK(g[4] == Approx(0.0).margin(1e-12));  // lse gives softmax (1, 0); sum(log_softmax) gives 1 - 2 (1, 0)
  CHECK(g[5] == Approx(1.0));
}

TEST_CASE("log_softmax in float keeps +-1e30 rows finite", "[values]") {
  Tape<float> tape;
  Var<float> ls = log_softmax(tape.constant(Tensor<float>(Shape{1, 3}, std::vector<float>{1e30f, -1e30f, 1e30f})), 1);
  CHECK(ls.value()[0] == Approx(-std::log(2.0f)));
  CHECK(ls.value()[1] == -2e30f);
}

TEST_CASE("shape errors name the op and both shapes", "[values]") {
  Tape<double> tape;
  V a = tape.constant(Tensor<double>(Shape{2, 3}));
  V b = tape.constant(Tensor<double>(Shape{4}));
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const ShapeError& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  const std::string add_msg = message([&] { add(a, b); });
  CHECK_THAT(add_msg, Catch::Contains("add") && Catch::Contains("[2, 3]") && Catch::Contains("[4]"));
  const std::string mm = message([&] { matmul(a, a); });
  CHECK_THAT(mm, Catch::Contains("matmul") && Catch::Contains("[2, 3]") && Catch::Contains("3 vs 2"));
  CHECK_THAT(message([&] { reshape(a, {4, 2}); }), Catch::Contains("reshape") && Catch::Contains("[2, 3]"));
  CHECK_THAT(message([&] { concat<double>({a, b}, 0); }), Catch::Contains("concat"));
  CHECK_THAT(message([&] { slice(a, 1, 2, 5); }), Catch::Contains("slice"));
  CHECK_THAT(message([&] { sum(a, 2); }), Catch::Contains("sum_axis") && Catch::Contains("axis 2"));
  CHECK_THAT(message([&] { index_select(a, {0, 2}); }), Catch::Contains("index_select") && Catch::Contains("2"));
  CHECK_THAT(message([&] { permute(a, {0, 0}); }), Catch::Contains("permute"));
  CHECK_THAT(message([&] { atan2(a, b); }), Catch::Contains("atan2"));
  CHECK_THAT(message([&] { masked_fill(b, Tensor<double>(Shape{2, 4}), 0.0); }), Catch::Contains("masked_fill"));
  CHECK_THAT(message([&] { tape.backward(a); }), Catch::Contains("backward") && Catch::Contains("[2, 3]"));
}

TEST_CASE("gelu values: exact erf form", "[values]") {
  Tape<double> tape;
  V y = gelu(tape.constant(values({3}, {0.0, 1.0, -2.0})));
  CHECK(y.value()[0] == 0.0);
  CHECK(y.value()[1] == Approx(0.8413447460685429));   // Phi(1)
  CHECK(y.value()[2] == Approx(-2.0 * 0.022750131948179195));
}
