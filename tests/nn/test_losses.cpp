// SupCon, KoLeo and cross-entropy: gradients, hand-computed values, edge cases, and the
// invariance oracles of method.md 15.
#include "test_util.hpp"

#include "nn/cross_entropy.hpp"
#include "nn/contrastive_features.hpp"
#include "nn/flat_torus.hpp"
#include "nn/koleo.hpp"
#include "nn/matryoshka.hpp"
#include "nn/normalize.hpp"
#include "nn/supcon.hpp"

#include <Eigen/QR>
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
// SupCon + KoLeo of a head output z in `mode`, as training computes them.
V contrastive_objective(const V& z, HeadMode mode, const std::vector<int>& labels, int views) {
  const ContrastiveFeatures<double> cf = contrastive_features(z, mode);
  return supcon_loss(cf.f, labels, views, cf.scale).loss + koleo_loss(cf.f, views);
}
// The Matryoshka objective: the weighted sum of contrastive_objective over each circle prefix.
V matryoshka_objective(const V& z, HeadMode mode, const std::vector<int>& labels, int views,
                       const std::vector<CircleLevel>& levels) {
  V total;
  for (const CircleLevel& l : levels) {
    const V term = contrastive_objective(circle_prefix(z, mode, l.circles), mode, labels, views) * l.weight;
    total = total.valid() ? total + term : term;
  }
  return total;
}
}  // namespace

TEST_CASE("Matryoshka: every circle at weight 1 is the plain loss exactly; gradients through the prefixes", "[nn][gradcheck]") {
  const std::vector<int> labels = {0, 1, 0, 2};
  for (const HeadMode mode : {HeadMode::torusN, HeadMode::torusC}) {
    INFO(head_mode_name(mode));
    const Tensor<double> x = random_tensor({8, 6}, 110, 0.05, 0.95);
    const auto head = [&](const V& v) { return mode == HeadMode::torusN ? pair_normalize(v) : wrap01(v); };
    const int64_t circles = head_circles(mode, 6);
    const std::vector<CircleLevel> all = parse_circle_levels(std::to_string(circles), "", circles);
    Tape<double> tape;
    const V z = head(tape.variable(x));
    CHECK(matryoshka_objective(z, mode, labels, 2, all).value().item() == contrastive_objective(z, mode, labels, 2).value().item());
    // Nested prefixes with weights: the gradient reaches every column, through each slice.
    const std::vector<CircleLevel> nested = parse_circle_levels(mode == HeadMode::torusN ? "1,2,3" : "1,3,6", "1,0.5,2", circles);
    require_gradients([&](Tape<double>&, const Vs& v) { return matryoshka_objective(head(v[0]), mode, labels, 2, nested); }, {x});
    // A prefix's loss depends on its own circles only: the gradient of the 1-circle level is zero
    // beyond the first circle's columns.
    const std::vector<CircleLevel> first = parse_circle_levels("1", "", circles);
    const auto g = analytic_grads([&](Tape<double>&, const Vs& v) { return matryoshka_objective(head(v[0]), mode, labels, 2, first); }, {x});
    const int64_t kept = mode == HeadMode::torusN ? 2 : 1;
    double beyond = 0, within = 0;
    for (int64_t r = 0; r < 8; ++r)
      for (int64_t c = 0; c < 6; ++c) (c < kept ? within : beyond) += std::fabs(g[0].data()[r * 6 + c]);
    CHECK(beyond == 0.0);
    CHECK(within > 0.0);
  }
}

TEST_CASE("Matryoshka levels: parsed, and every bad list named", "[nn][values]") {
  const auto l = parse_circle_levels("1, 2,4,8", "1,1,0.5,0.25", 8);
  REQUIRE(l.size() == 4);
  CHECK(l[2].circles == 4);
  CHECK(l[3].weight == 0.25);
  CHECK(parse_circle_levels("2,8", "", 8)[1].weight == 1.0);
  CHECK_THROWS_WITH(parse_circle_levels("1,2,16", "", 8), Catch::Contains("\"16\"") && Catch::Contains("[1, 8]"));
  CHECK_THROWS_WITH(parse_circle_levels("2,2", "", 8), Catch::Contains("strictly increasing"));
  CHECK_THROWS_WITH(parse_circle_levels("0,2", "", 8), Catch::Contains("\"0\""));
  CHECK_THROWS_WITH(parse_circle_levels("1,x", "", 8), Catch::Contains("\"x\""));
  CHECK_THROWS_WITH(parse_circle_levels("", "", 8), Catch::Contains("no level"));
  CHECK_THROWS_WITH(parse_circle_levels("1,2", "1", 8), Catch::Contains("1 weights"));
  CHECK_THROWS_WITH(parse_circle_levels("1,2", "1,-1", 8), Catch::Contains("weight \"-1\""));
  CHECK_THROWS_WITH(parse_circle_levels("1,2,", "", 8), Catch::Contains("\"\""));
  CHECK_THROWS_WITH(head_circles(HeadMode::sphere, 8), Catch::Contains("sphere"));
}

TEST_CASE("SupCon: gradients for raw, torusN and torusC features", "[nn][gradcheck]") {
  const std::vector<int> labels = {0, 1, 0};
  require_gradients([&](Tape<double>&, const Vs& v) { return supcon_loss(v[0], labels, 2, 1.0).loss; },
                    {random_tensor({6, 4}, 100)});
  require_gradients([&](Tape<double>&, const Vs& v) { return contrastive_objective(pair_normalize(v[0]), HeadMode::torusN, labels, 2); },
                    {random_tensor({6, 4}, 101)});
  require_gradients([&](Tape<double>&, const Vs& v) { return contrastive_objective(wrap01(v[0]), HeadMode::torusC, labels, 2); },
                    {random_tensor({6, 4}, 102, 0.05, 0.95)});
  require_gradients([&](Tape<double>&, const Vs& v) { return contrastive_objective(sphere_normalize(v[0]), HeadMode::sphere, labels, 2); },
                    {random_tensor({6, 4}, 103)});
}

TEST_CASE("SupCon by hand: 2 samples on 2 circles, two identical views", "[nn][values]") {
  // a = angles (0, 0), b = (pi/2, 0): <a,a'> = 2, <a,b> = cos(pi/2) + cos(0) = 1; torusN S = D/2 = 2,
  // tau = 0.1: logits 10 (positive) and 5, 5 (negatives). Every anchor alike:
  // loss = -(tau / 0.07) (10 - log(e^10 + 2 e^5)) = (1 / 0.7) log(1 + 2 e^-5)
  Tape<double> tape;
  V z = tape.constant(values({4, 4}, {1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0}));
  const SupConLoss<double> r = supcon_loss(z, {0, 1}, 2, 2.0);
  CHECK(r.loss.value().item() == Approx(std::log1p(2 * std::exp(-5.0)) / 0.7).epsilon(1e-12));
  CHECK(r.anchors_without_positive == 0);
  // without the base-temperature factor (benchmarks.md W1) the same value times 0.7
  SupConOptions plain;
  plain.base_temperature = plain.temperature;
  CHECK(supcon_loss(z, {0, 1}, 2, 2.0, plain).loss.value().item() == Approx(std::log1p(2 * std::exp(-5.0))));
}

TEST_CASE("SupCon logits equal the mean cosine of angle differences over tau (torusN)", "[nn][oracle]") {
  // recompute the loss from angles alone and compare
  const int B = 4, K = 3;
  const std::vector<int> labels = {0, 1, 1, 0};
  const auto phi = random_tensor({B, K}, 104, 0.0, 2 * std::numbers::pi);
  Tensor<double> z(Shape{B, 2 * K});
  for (int i = 0; i < B; ++i)
    for (int k = 0; k < K; ++k) {
      z[i * 2 * K + 2 * k] = std::cos(phi[i * K + k]);
      z[i * 2 * K + 2 * k + 1] = std::sin(phi[i * K + k]);
    }
  const double tau = 0.1;
  auto logit = [&](int i, int j) {
    double c = 0;
    for (int k = 0; k < K; ++k) c += std::cos(phi[i * K + k] - phi[j * K + k]);
    return c / K / tau;
  };
  double expected = 0;
  for (int i = 0; i < B; ++i) {
    double denom = 0, pos = 0;
    int npos = 0;
    for (int j = 0; j < B; ++j)
      if (j != i) denom += std::exp(logit(i, j));
    for (int j = 0; j < B; ++j)
      if (j != i && labels[j] == labels[i]) pos += logit(i, j) - std::log(denom), ++npos;
    expected += -(tau / 0.07) * pos / npos;
  }
  expected /= B;
  Tape<double> tape;
  V f = contrastive_features(tape.constant(z), HeadMode::torusN).f;
  CHECK(supcon_loss(f, labels, 1, K).loss.value().item() == Approx(expected).epsilon(1e-12));
}

TEST_CASE("SupCon edge cases: singleton class, one label, batch of one", "[nn][values]") {
  Tape<double> tape;
  V f = tape.variable(random_tensor({3, 4}, 105));
  const SupConLoss<double> single = supcon_loss(f, {0, 0, 1}, 1, 1.0);
  CHECK(single.anchors_without_positive == 1);  // class 1 has no positive: masked out, counted
  CHECK(std::isfinite(single.loss.value().item()));
  require_gradients([](Tape<double>&, const Vs& v) { return supcon_loss(v[0], {0, 0, 1}, 1, 1.0).loss; }, {random_tensor({3, 4}, 106)});
  // every label equal: all other rows are positives; finite with a correct gradient
  require_gradients([](Tape<double>&, const Vs& v) { return supcon_loss(v[0], {2, 2, 2}, 2, 1.0).loss; }, {random_tensor({6, 4}, 107)});
  // a batch of one image with one view: no anchor has a positive; the loss is 0 with zero gradient
  Tape<double> t1;
  V one = t1.variable(random_tensor({1, 4}, 108));
  const SupConLoss<double> lone = supcon_loss(one, {3}, 1, 1.0);
  CHECK(lone.loss.value().item() == 0.0);
  CHECK(lone.anchors_without_positive == 1);
  t1.backward(lone.loss);
  CHECK(one.grad().array().abs().maxCoeff() == 0.0);
  // one image, two views: each view's only other row is its positive, so log p = 0 exactly
  Tape<double> t2;
  CHECK(supcon_loss(t2.constant(random_tensor({2, 4}, 109)), {3}, 2, 1.0).loss.value().item() == Approx(0.0).margin(1e-15));
  CHECK_THROWS_AS(supcon_loss(t2.constant(random_tensor({5, 4}, 110)), {0, 1}, 2, 1.0), ShapeError);
}

TEST_CASE("KoLeo: gradient, a hand value, duplicate rows, a batch of one", "[nn][gradcheck]") {
  require_gradients([](Tape<double>&, const Vs& v) { return koleo_loss(v[0], 2); }, {random_tensor({8, 4}, 111)});
  // two orthogonal unit vectors: d = |x1 - x2 + 1e-6| = sqrt((1 + 1e-6)^2 + (-1 + 1e-6)^2)
  Tape<double> tape;
  V two = tape.constant(values({2, 2}, {1, 0, 0, 1}));
  const double d = std::hypot(1 + 1e-6, -1 + 1e-6);
  CHECK(koleo_loss(two, 1).value().item() == Approx(-std::log(d + 1e-6)).epsilon(1e-12));
  // duplicates: finite value and gradient
  Tape<double> t2;
  V dup = t2.variable(values({3, 2}, {0.6, 0.8, 0.6, 0.8, -1, 0}));
  V k = koleo_loss(dup, 1);
  // rows 0 and 1 are each other's neighbour at distance |(1e-6, 1e-6)|; row 2's is row 0 (tie, first)
  const double dup_term = -std::log(std::sqrt(2.0) * 1e-6 + 1e-6);
  const double far_term = -std::log(std::hypot(-1.6 + 1e-6, -0.8 + 1e-6) + 1e-6);
  CHECK(k.value().item() == Approx((2 * dup_term + far_term) / 3).epsilon(1e-9));
  t2.backward(k);
  for (int i = 0; i < 6; ++i) CHECK(std::isfinite(dup.grad()[i]));
  Tape<double> t3;
  CHECK(koleo_loss(t3.constant(random_tensor({1, 3}, 112)), 1).value().item() == 0.0);
}

TEST_CASE("cross-entropy with and without label smoothing", "[nn][gradcheck]") {
  const std::vector<int> labels = {2, 0, 1};
  require_gradients([&](Tape<double>&, const Vs& v) { return cross_entropy(v[0], labels); }, {random_tensor({3, 4}, 113)});
  require_gradients([&](Tape<double>&, const Vs& v) { return cross_entropy(v[0], labels, 0.1); }, {random_tensor({3, 4}, 114)});
  Tape<double> tape;
  V uniform = tape.constant(Tensor<double>(Shape{3, 4}));
  CHECK(cross_entropy(uniform, labels).value().item() == Approx(std::log(4.0)));
  CHECK(cross_entropy(uniform, labels, 0.3).value().item() == Approx(std::log(4.0)));
  V sharp = tape.constant(values({1, 2}, {0, 100}));
  CHECK(cross_entropy(sharp, {1}).value().item() == Approx(0.0).margin(1e-12));
  CHECK(cross_entropy(sharp, {1}, 0.2).value().item() == Approx(0.1 * 100).epsilon(1e-6));  // eps/C * 100
  CHECK_THROWS_WITH(cross_entropy(sharp, {2}), Catch::Contains("label 2") && Catch::Contains("[0, 2)"));
}

TEST_CASE("torusC: loss and gradient unchanged by integer shifts per sample and by a common shift", "[nn][oracle]") {
  const std::vector<int> labels = {0, 1, 0, 1};
  const auto h = random_tensor({8, 6}, 115, 0.0, 1.0);
  Tensor<double> shifted = h, common = h;
  for (int64_t i = 0; i < h.numel(); ++i) {
    shifted[i] += double((i * 7) % 5) - 2.0;  // a different integer vector per sample
    common[i] += 0.37;                        // the same shift t for everyone
  }
  auto objective = [&](Tape<double>&, const Vs& v) { return contrastive_objective(wrap01(v[0]), HeadMode::torusC, labels, 2); };
  auto supcon = [&](Tape<double>&, const Vs& v) {
    const auto cf = contrastive_features(wrap01(v[0]), HeadMode::torusC);
    return supcon_loss(cf.f, labels, 2, cf.scale).loss;
  };
  auto value = [](const GradFunction& f, const Tensor<double>& x) {
    Tape<double> t;
    return f(t, {t.constant(x)}).value().item();
  };
  auto same_grads = [](const Tensor<double>& a, const Tensor<double>& b, double tol) {
    for (int64_t i = 0; i < a.numel(); ++i) CHECK(a[i] == Approx(b[i]).margin(tol));
  };
  // integer shifts: the Clifford vectors are the same points, so everything agrees to rounding
  CHECK(value(objective, shifted) == Approx(value(objective, h)).epsilon(1e-12));
  same_grads(analytic_grads(objective, {shifted})[0], analytic_grads(objective, {h})[0], 1e-9);
  // a common shift rotates every circle: SupCon sees only inner products and is unchanged to
  // rounding; KoLeo's torch-style |x_i - x_j + 1e-6| is not exactly rotation invariant, so the
  // whole objective agrees to the size of that epsilon
  CHECK(value(supcon, common) == Approx(value(supcon, h)).epsilon(1e-12));
  same_grads(analytic_grads(supcon, {common})[0], analytic_grads(supcon, {h})[0], 1e-9);
  CHECK(value(objective, common) == Approx(value(objective, h)).epsilon(1e-5));
  same_grads(analytic_grads(objective, {common})[0], analytic_grads(objective, {h})[0], 1e-5);
}

TEST_CASE("sphere: loss unchanged by a common rotation of h", "[nn][oracle]") {
  const std::vector<int> labels = {0, 1, 0, 1};
  const auto h = random_tensor({8, 6}, 116);
  Eigen::MatrixXd g = Eigen::Map<const Eigen::Matrix<double, 6, 6, Eigen::RowMajor>>(random_tensor({6, 6}, 117).data());
  const Eigen::MatrixXd R = Eigen::HouseholderQR<Eigen::MatrixXd>(g).householderQ();  // orthogonal
  Tensor<double> rotated(h.shape());
  rotated.matrix(8, 6) = h.matrix(8, 6) * R;
  auto supcon = [&](Tape<double>&, const Vs& v) { return supcon_loss(sphere_normalize(v[0]), labels, 2, 1.0).loss; };
  auto objective = [&](Tape<double>&, const Vs& v) { return contrastive_objective(sphere_normalize(v[0]), HeadMode::sphere, labels, 2); };
  auto value = [](const GradFunction& f, const Tensor<double>& x) {
    Tape<double> t;
    return f(t, {t.constant(x)}).value().item();
  };
  CHECK(value(supcon, rotated) == Approx(value(supcon, h)).epsilon(1e-12));
  CHECK(value(objective, rotated) == Approx(value(objective, h)).epsilon(1e-5));  // KoLeo's 1e-6, as above
  // torusN is not rotation invariant (method.md 7): the same rotation changes its loss
  auto torus_n = [&](Tape<double>&, const Vs& v) { return supcon_loss(pair_normalize(v[0]), labels, 2, 3.0).loss; };
  CHECK(std::abs(value(torus_n, rotated) - value(torus_n, h)) > 1e-3);
}
