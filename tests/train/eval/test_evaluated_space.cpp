// The spaces embeddings are read in, from the one place torus-eval, torus-quant-eval and the
// trainer take them: torus-quant-eval's route (angles, then their Clifford vectors) lands where
// torus-eval's evaluated space does.
#include <catch2/catch.hpp>

#include "train/eval/evaluated_space.hpp"

#include <cmath>
#include <numbers>
#include <random>

using namespace torus;
using eval::RowMatrix;

namespace {
// torusN unit pairs at random angles, (n, 2K).
RowMatrix unit_pairs(int n, int K, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  RowMatrix z(n, 2 * K);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < K; ++k) {
      const double a = 2 * std::numbers::pi * u(rng);
      z(i, 2 * k) = float(std::cos(a)), z(i, 2 * k + 1) = float(std::sin(a));
    }
  return z;
}
}  // namespace

TEST_CASE("torusC: the quantised route is the evaluated space bit for bit", "[eval][single-path]") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  RowMatrix z(20, 6);
  for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = u(rng);
  const RowMatrix via_angles = eval::evaluated_space_of_quantised(eval::quantisation_space(z, nn::HeadMode::torusC),
                                                                  nn::HeadMode::torusC);
  CHECK(via_angles == eval::evaluated_space(z, nn::HeadMode::torusC));
  CHECK(eval::torus_angles(z, nn::HeadMode::torusC) == z);
}

TEST_CASE("torusN: the Clifford vectors of the angles have the inner products of the pairs", "[eval][single-path]") {
  const RowMatrix z = unit_pairs(30, 4, 8);
  const RowMatrix u = eval::quantisation_space(z, nn::HeadMode::torusN);
  REQUIRE(u.cols() == 4);
  CHECK(u.minCoeff() >= 0.0f);
  CHECK(u.maxCoeff() < 1.0f);
  const RowMatrix e = eval::evaluated_space_of_quantised(u, nn::HeadMode::torusN);
  const RowMatrix direct = eval::evaluated_space(z, nn::HeadMode::torusN);
  CHECK(direct == z);
  const Eigen::MatrixXf gram_direct = direct * direct.transpose(), gram_angles = e * e.transpose();
  CHECK((gram_direct - gram_angles).cwiseAbs().maxCoeff() < 1e-5f);
}

TEST_CASE("sphere is quantised as is; heads without a table are refused", "[eval]") {
  const RowMatrix z = unit_pairs(5, 3, 2);
  CHECK(eval::quantisation_space(z, nn::HeadMode::sphere) == z);
  CHECK(eval::evaluated_space_of_quantised(z, nn::HeadMode::sphere) == eval::evaluated_space(z, nn::HeadMode::sphere));
  for (nn::HeadMode mode : {nn::HeadMode::none, nn::HeadMode::spherization}) {
    CHECK_FALSE(eval::has_quantisation_table(mode));
    CHECK_THROWS_WITH(eval::quantisation_space(z, mode), Catch::Contains(nn::head_mode_name(mode)));
  }
  CHECK_THROWS_WITH(eval::torus_angles(z, nn::HeadMode::sphere), Catch::Contains("sphere"));
}
