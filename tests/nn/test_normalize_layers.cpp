// Gradient checks and properties of sphere / pair normalisation (its value is the geometry
// kernel, bit for bit) and of EmbeddingHead in every mode. The Clifford map and torusC's wrap are
// in test_clifford_torus.cpp and test_flat_torus.cpp.
#include "test_util.hpp"

#include "geometry/normalize.hpp"
#include "nn/clifford_torus.hpp"
#include "nn/embedding_head.hpp"
#include "nn/normalize.hpp"

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

TEST_CASE("sphere and pair normalisation: gradients on random inputs", "[nn][gradcheck]") {
  const auto h = random_tensor({3, 6}, 70);
  require_gradients([](Tape<double>&, const Vs& v) { return sphere_normalize(v[0]); }, {h});
  require_gradients([](Tape<double>&, const Vs& v) { return pair_normalize(v[0]); }, {h});
  require_gradients([](Tape<double>&, const Vs& v) { return group_l2_normalize(v[0], 3); }, {h});
}

TEST_CASE("a zero pair gives output 0 and the clamped gradient dz / eps", "[nn][gradcheck]") {
  const auto h = values({1, 4}, {0.0, 0.0, 0.6, -0.8});
  Tape<double> tape;
  V x = tape.variable(h);
  V z = pair_normalize(x);
  CHECK(z.value()[0] == 0.0);
  CHECK(z.value()[1] == 0.0);
  CHECK(z.value()[2] == Approx(0.6));
  tape.backward(sum(z));
  CHECK(x.grad()[0] == 1e12);  // dz / eps with eps = 1e-12: finite
  CHECK(std::isfinite(x.grad()[1]));
  // inside the clamped branch z = h / eps is linear; with eps = 1e-3 a pair of norm 2.2e-5 stays
  // inside it under the checker's +-1e-6 probes
  const auto small = values({1, 4}, {1e-5, -2e-5, 0.6, -0.8});
  require_gradients([](Tape<double>&, const Vs& v) { return group_l2_normalize(v[0], 2, 1e-3); }, {small});
  // a whole zero vector on the sphere
  const auto zero = Tensor<double>(Shape{2, 3});
  const auto g = analytic_grads([](Tape<double>&, const Vs& v) { return sphere_normalize(v[0]); }, {zero})[0];
  for (int i = 0; i < 6; ++i) CHECK(g[i] == 1e12);
}

TEST_CASE("torusN pairs are unit vectors and inner products lie in [-D/2, D/2]", "[nn][oracle]") {
  const int D = 8;
  Tape<double> tape;
  V z = pair_normalize(tape.constant(random_tensor({20, D}, 71, -3.0, 3.0)));
  const auto Z = z.value().matrix(20, D);
  for (int i = 0; i < 20; ++i)
    for (int k = 0; k < D / 2; ++k) CHECK(std::hypot(Z(i, 2 * k), Z(i, 2 * k + 1)) == Approx(1.0).epsilon(1e-12));
  const Eigen::MatrixXd G = Z * Z.transpose();
  CHECK(G.maxCoeff() <= D / 2 + 1e-9);
  CHECK(G.minCoeff() >= -D / 2 - 1e-9);
  CHECK(G(3, 3) == Approx(D / 2.0));
}

TEST_CASE("EmbeddingHead in each mode: output shape, geometry and gradient", "[nn][gradcheck]") {
  for (HeadMode mode : {HeadMode::sphere, HeadMode::torusN, HeadMode::torusC, HeadMode::spherization, HeadMode::none}) {
    INFO("mode " << head_mode_name(mode));
    std::mt19937_64 rng(5);
    EmbeddingHead<double> head({mode, 5, 4, 0, {}}, rng);
    Tape<double> tape;
    V z = head(tape.constant(random_tensor({3, 5}, 73)));
    REQUIRE(z.shape() == Shape{3, 4});
    const auto Z = z.value().matrix(3, 4);
    if (mode == HeadMode::sphere || mode == HeadMode::spherization) CHECK(Z.row(1).norm() == Approx(1.0).epsilon(1e-4));
    if (mode == HeadMode::torusN) CHECK(Z.row(1).squaredNorm() == Approx(2.0));
    if (mode == HeadMode::torusC) CHECK((Z.minCoeff() >= 0 && Z.maxCoeff() < 1));
    // the gradient of a loss through the head reaches every parameter
    tape.backward(sum(contrastive_features(z, mode).f * z.value().array().sum()));
    for (const auto& [name, p] : head.parameters()) {
      INFO(name);
      CHECK(p->grad.array().abs().sum() > 0);
    }
  }
  CHECK_THROWS_WITH(parse_head_mode("torus"), Catch::Contains("torusN") && Catch::Contains("spherization"));
  std::mt19937_64 rng(0);
  CHECK_THROWS_WITH(EmbeddingHead<float>({HeadMode::torusN, 8, 5, 0, {}}, rng), Catch::Contains("even"));
}

TEST_CASE("torusC rewrap: bias wrapped into [0, 1) changes no output, loss or gradient", "[nn][oracle]") {
  std::mt19937_64 rng(8);
  EmbeddingHead<double> head({HeadMode::torusC, 5, 4, 0, {}}, rng);
  for (auto& [name, p] : head.parameters())
    if (name == "fc2.bias") p->value.array() += 1000.0;  // raw coordinates drifted by whole turns
  const auto x = random_tensor({3, 5}, 74);
  auto run = [&](std::vector<double>& grads) {
    Tape<double> tape;
    for (auto& [name, p] : head.parameters()) p->zero_grad();
    V z = head(tape.constant(x));
    V loss = sum(clifford_project(z) * tape.constant(random_tensor({3, 8}, 75)));
    tape.backward(loss);
    grads.clear();
    for (auto& [name, p] : head.parameters()) grads.insert(grads.end(), p->grad.data(), p->grad.data() + p->grad.numel());
    return loss.value().item();
  };
  std::vector<double> before, after;
  const double l0 = run(before);
  head.rewrap();
  for (auto& [name, p] : head.parameters())
    if (name == "fc2.bias") {
      CHECK(p->value.array().minCoeff() >= 0.0);
      CHECK(p->value.array().maxCoeff() < 1.0);
    }
  CHECK(run(after) == Approx(l0).epsilon(1e-9));
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) CHECK(after[i] == Approx(before[i]).margin(1e-9));
}

namespace {
template <typename T>
void check_normalize_single_path() {
  // a zero row, a zero pair, tiny values under the clamp, large values, and ordinary ones
  const std::vector<T> h = {T(0),    T(0),     T(0),   T(0),    T(0),     T(0),
                            T(0),    T(0),     T(0.6), T(-0.8), T(1e-13), T(-2e-13),
                            T(1e15), T(-3e14), T(2.5), T(-1.5), T(0.1),   T(7)};
  const int64_t N = 3, D = 6;
  Tape<T> tape;
  const Var<T> x = tape.constant(Tensor<T>(Shape{N, D}, h));
  const geometry::RowMatrix<T> hm = Tensor<T>(Shape{N, D}, h).matrix(N, D);
  for (int64_t group : {1, 2, 3, 6}) {
    INFO("group " << group);
    const Var<T> z = group_l2_normalize(x, group);
    std::vector<T> kernel(h.size()), rho(h.size() / size_t(group));
    geometry::group_l2_normalize(h.data(), int64_t(h.size()), group, T(geometry::kNormEps), kernel.data(), rho.data());
    for (size_t i = 0; i < h.size(); ++i) CHECK(z.value()[int64_t(i)] == kernel[i]);
    // the row helpers of the evaluation code are the same kernel
    const geometry::RowMatrix<T> rows = group == 2 ? geometry::pair_normalize_rows<T>(hm) : geometry::l2_normalize_rows<T>(hm);
    if (group == 2 || group == D)
      for (int64_t i = 0; i < N * D; ++i) CHECK(z.value()[i] == rows(i / D, i % D));
  }
  CHECK(sphere_normalize(x).value()[0] == T(0));  // the zero row stays zero
}
}  // namespace

TEST_CASE("group_l2_normalize computes its value with the geometry kernel, bit for bit", "[nn][single-path]") {
  check_normalize_single_path<float>();
  check_normalize_single_path<double>();
}
