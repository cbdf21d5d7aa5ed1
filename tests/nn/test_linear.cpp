// Linear: PyTorch layout and initialisation bounds, named parameters, and its gradient.
#include "test_util.hpp"

#include "nn/linear.hpp"

using namespace torus;

TEST_CASE("Linear has PyTorch's layout, init bound and named parameters", "[nn]") {
  std::mt19937_64 rng(3);
  nn::Linear<float> fc(100, 7, rng);
  CHECK(fc.weight.value.shape() == Shape{7, 100});
  CHECK(fc.bias.value.shape() == Shape{7});
  const float bound = 0.1f;  // 1 / sqrt(100)
  CHECK(fc.weight.value.array().abs().maxCoeff() <= bound);
  CHECK(fc.weight.value.array().abs().maxCoeff() > 0.9f * bound);
  const auto params = fc.parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  CHECK_THROWS_AS(nn::Linear<float>(0, 3, rng), std::invalid_argument);
}

TEST_CASE("Linear computes x W^T + b and its gradient matches finite differences", "[nn][gradcheck]") {
  std::mt19937_64 rng(4);
  nn::Linear<double> fc(3, 2, rng);
  Tape<double> tape;
  Tensor<double> x(Shape{1, 3}, std::vector<double>{1, 2, 3});
  Var<double> y = fc(tape.constant(x));
  const auto& W = fc.weight.value;
  CHECK(y.value()[1] == Approx(W[3] + 2 * W[4] + 3 * W[5] + fc.bias.value[1]));
  torus::testing::require_gradients(
      [](Tape<double>&, const std::vector<Var<double>>& v) {
        // parameters enter as variables here so the checker can perturb them
        return matmul(v[0], v[1], false, true) + v[2];
      },
      {torus::testing::random_tensor({4, 3}, 60), fc.weight.value, fc.bias.value});
}
