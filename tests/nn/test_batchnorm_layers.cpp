// Batch norm (train / eval semantics, running statistics, gradients, naive reference), dropout and
// Sequential containers.
#include "test_util.hpp"

#include "nn/batchnorm.hpp"
#include "nn/layers.hpp"
#include "nn/linear.hpp"

using namespace torus;
using namespace torus::nn;
using torus::testing::random_tensor;
using torus::testing::require_gradients;
using torus::testing::values;
using V = Var<double>;
using Vs = std::vector<V>;

TEST_CASE("batch norm gradients in training and evaluation mode, 2-D and 4-D", "[nn][gradcheck]") {
  for (bool training : {true, false}) {
    INFO("training " << training);
    Tensor<double> rm = random_tensor({3}, 130, -0.5, 0.5), rv = random_tensor({3}, 131, 0.5, 2.0);
    auto f = [&](Tape<double>&, const Vs& v) { return batch_norm(v[0], v[1], v[2], rm, rv, training); };
    require_gradients(f, {random_tensor({4, 3, 2, 2}, 132), random_tensor({3}, 133, 0.5, 1.5), random_tensor({3}, 134)});
    require_gradients(f, {random_tensor({5, 3}, 135), random_tensor({3}, 136, 0.5, 1.5), random_tensor({3}, 137)});
  }
}

TEST_CASE("batch norm: batch statistics in training, running statistics in evaluation", "[nn][values]") {
  BatchNorm<float> bn(2, 0.1);
  // channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3); channel 1 is constant 7
  Tensor<float> x(Shape{2, 2, 1, 2}, {1, 2, 7, 7, 3, 4, 7, 7});
  Tape<float> tape;
  Var<float> y = bn(tape.constant(x));
  CHECK(y.value()[0] == Approx(-1.5f / std::sqrt(1.25f + 1e-5f)));
  CHECK(y.value()[2] == Approx(0.0f).margin(1e-6));  // constant channel: 0 after centring
  CHECK(bn.running_mean[0] == Approx(0.25f));         // 0.9 * 0 + 0.1 * 2.5
  CHECK(bn.running_var[0] == Approx(0.9f + 0.1f * 5.0f / 3.0f));  // unbiased variance
  CHECK(bn.running_mean[1] == Approx(0.7f));
  bn.set_training(false);
  Var<float> e = bn(tape.constant(x));
  CHECK(e.value()[0] == Approx((1.0f - 0.25f) / std::sqrt(bn.running_var[0] + 1e-5f)));
  CHECK(bn.running_mean[0] == Approx(0.25f));  // evaluation leaves the statistics alone
  const auto buffers = bn.buffers();
  CHECK(buffers[0].first == "running_mean");
  CHECK_THROWS_AS(bn(tape.constant(Tensor<float>(Shape{2, 3}))), ShapeError);
  bn.set_training(true);
  CHECK_THROWS_AS(bn(tape.constant(Tensor<float>(Shape{1, 2}))), ShapeError);  // one value per channel
}

TEST_CASE("batch norm matches a naive two-pass computation in float", "[nn][values]") {
  const auto xd = random_tensor({8, 4, 5, 5}, 138, -3.0, 5.0);
  Tensor<float> x(xd.shape());
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(xd[i]);
  BatchNorm<float> bn(4);
  bn.weight.value = Tensor<float>(Shape{4}, {0.5f, 1.0f, 2.0f, -1.0f});
  bn.bias.value = Tensor<float>(Shape{4}, {0.0f, 1.0f, -1.0f, 0.5f});
  Tape<float> tape;
  Var<float> y = bn(tape.constant(x));
  float worst = 0;
  for (int c = 0; c < 4; ++c) {
    double mean = 0, var = 0;
    for (int n = 0; n < 8; ++n)
      for (int i = 0; i < 25; ++i) mean += x[(n * 4 + c) * 25 + i];
    mean /= 200;
    for (int n = 0; n < 8; ++n)
      for (int i = 0; i < 25; ++i) var += (x[(n * 4 + c) * 25 + i] - mean) * (x[(n * 4 + c) * 25 + i] - mean);
    var /= 200;
    for (int n = 0; n < 8; ++n)
      for (int i = 0; i < 25; ++i) {
        const int at = (n * 4 + c) * 25 + i;
        const double ref = bn.weight.value[c] * (x[at] - mean) / std::sqrt(var + 1e-5) + bn.bias.value[c];
        worst = std::max(worst, float(std::abs(y.value()[at] - ref)));
      }
  }
  CHECK(worst < 1e-5f);
}

TEST_CASE("dropout: identity in evaluation, inverted scaling in training, seeded", "[nn]") {
  Dropout<float> drop(0.25, 7);
  Tape<float> tape;
  Tensor<float> ones(Shape{100, 100}, 1.0f);
  Var<float> y = drop(tape.constant(ones));
  int64_t kept = 0;
  for (int64_t i = 0; i < y.value().numel(); ++i) {
    const float v = y.value()[i];
    CHECK((v == 0.0f || v == Approx(1.0f / 0.75f)));
    kept += v != 0.0f;
  }
  CHECK(kept == Approx(7500).margin(250));
  drop.set_training(false);
  CHECK(drop(tape.constant(ones)).value()[17] == 1.0f);
  Dropout<float> again(0.25, 7);
  CHECK(again(tape.constant(ones)).value()[123] == y.value()[123]);
  CHECK_THROWS_AS(Dropout<float>(1.0), std::invalid_argument);
}

TEST_CASE("Sequential: names, training mode, forward order", "[nn]") {
  std::mt19937_64 rng(2);
  Sequential<double> net;
  net.emplace<Linear<double>>(3, 4, rng);
  net.emplace<BatchNorm<double>>(4);
  net.emplace<GELU<double>>();
  net.add(std::make_unique<Linear<double>>(4, 2, rng), "out");
  const auto params = net.parameters();
  REQUIRE(params.size() == 6);
  CHECK(params[0].first == "0.weight");
  CHECK(params[2].first == "1.weight");
  CHECK(params[5].first == "out.bias");
  CHECK(net.buffers()[1].first == "1.running_var");
  net.set_training(false);
  CHECK_FALSE(net.training());
  Tape<double> tape;
  CHECK(net(tape.constant(random_tensor({5, 3}, 139))).shape() == Shape{5, 2});
  net.set_training(true);
  require_gradients([&net](Tape<double>&, const Vs& v) { return net(v[0]); }, {random_tensor({5, 3}, 140)});
}
