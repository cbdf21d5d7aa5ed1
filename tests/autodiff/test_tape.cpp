// The tape's contract: accumulation, leaves, no-grad mode, buffer reuse, repeatability.
#include "test_util.hpp"

using namespace torus;
using torus::testing::random_tensor;
using torus::testing::values;
using V = Var<double>;

TEST_CASE("a node used twice accumulates both contributions", "[tape]") {
  Tape<double> tape;
  V a = tape.variable(values({2}, {3.0, -2.0}));
  tape.backward(sum(a * a));  // d(a^2) = 2a
  CHECK(a.grad()[0] == 6.0);
  CHECK(a.grad()[1] == -4.0);
  Tape<double> t2;
  V x = t2.variable(values({1}, {0.5}));
  V z = exp(x);
  t2.backward(sum(z * z + z));  // d(e^2x + e^x) = 2e^2x + e^x
  CHECK(x.grad()[0] == Approx(2 * std::exp(1.0) + std::exp(0.5)));
}

TEST_CASE("parameters are read in place and gradients accumulate into them", "[tape]") {
  Parameter<double> w{values({2}, {1.0, 2.0}), {}};
  Tape<double> tape;
  for (int step = 0; step < 2; ++step) {
    tape.clear();
    V x = tape.constant(values({2}, {3.0, 4.0}));
    tape.backward(sum(x * tape.param(w)));
  }
  REQUIRE(w.grad.shape() == Shape{2});
  CHECK(w.grad[0] == 6.0);  // two backward passes, never reset: 2 x 3
  CHECK(w.grad[1] == 8.0);
  w.zero_grad();
  CHECK(w.grad[0] == 0.0);
}

TEST_CASE("constants get no gradient and no-grad mode records no backward", "[tape]") {
  Tape<double> tape;
  V c = tape.constant(values({2}, {1.0, 2.0}));
  V v = tape.variable(values({2}, {3.0, 4.0}));
  V y = c * v;
  CHECK(tape.node(y.id()).requires_grad);
  tape.backward(sum(y));
  CHECK_THROWS_AS(c.grad(), std::logic_error);
  {
    NoGradGuard<double> guard(tape);
    V z = v * v;
    CHECK_FALSE(tape.node(z.id()).requires_grad);
    CHECK(tape.node(z.id()).backward == nullptr);
  }
  CHECK(tape.grad_enabled());
}

TEST_CASE("clear() keeps nodes and buffers: a repeated step does not reallocate", "[tape]") {
  Tape<float> tape;
  Parameter<float> w{Tensor<float>(Shape{16, 8}, 0.1f), {}};
  Tensor<float> input(Shape{32, 8}, 1.0f);
  std::vector<const float*> first;
  for (int step = 0; step < 3; ++step) {
    tape.clear();
    Var<float> h = relu(matmul(tape.constant(input), tape.param(w), false, true));
    Var<float> loss = mean(sum(h * h, 1));
    tape.backward(loss);
    std::vector<const float*> now;
    for (int id = 0; id < tape.size(); ++id) now.push_back(tape.node(id).value.data());
    for (int id = 0; id < tape.size(); ++id) now.push_back(tape.node(id).grad.data());
    if (step == 0) first = now;
    else CHECK(now == first);
  }
}

TEST_CASE("backward twice on one graph, and zero_grad in between", "[tape]") {
  Tape<double> tape;
  V a = tape.variable(values({1}, {2.0}));
  V y = sum(a * a * a);
  tape.backward(y);
  CHECK(a.grad()[0] == 12.0);
  tape.zero_grad();
  tape.backward(y);
  CHECK(a.grad()[0] == 12.0);
}

TEST_CASE("results do not depend on the thread count for elementwise and broadcast work", "[tape]") {
  const auto x = random_tensor({300, 257}, 40);
  const auto r = random_tensor({257}, 41);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tape<double> tape;
    V a = tape.variable(x), b = tape.variable(r);
    tape.backward(sum(tanh(a * b) + exp(a - b)));
    std::vector<double> out(a.grad().data(), a.grad().data() + a.grad().numel());
    out.insert(out.end(), b.grad().data(), b.grad().data() + b.grad().numel());
    set_num_threads(1);
    return out;
  };
  const auto one = run(1);
  CHECK(run(1) == one);  // bit for bit, run to run
  CHECK(run(2) == one);
}

TEST_CASE("a tape reused after backward without clear() refuses the next step", "[tape]") {
  // One step of least squares: loss = sum((w x - y)^2), dW = 2 (w x - y) x = 2 (2 - 3) 2 = -4.
  Parameter<double> w{values({1}, {1.0}), {}};
  Tape<double> tape;
  V last_input;
  auto step = [&] {
    w.zero_grad();
    last_input = tape.param(w);
    V r = tape.constant(values({1}, {2.0})) * last_input - tape.constant(values({1}, {3.0}));
    tape.backward(sum(r * r));
    return w.grad[0];
  };
  CHECK(step() == -4.0);
  // Without clear() the old graph would be walked again with the new one (stale gradients added);
  // the tape refuses the first new node instead and says what to do.
  CHECK_THROWS_AS(step(), std::logic_error);
  CHECK_THROWS_WITH(tape.param(w), Catch::Contains("clear()"));
  CHECK_THROWS_WITH(tape.variable(values({1}, {2.0})), Catch::Contains("clear()"));
  CHECK_THROWS_WITH(tape.constant(values({1}, {2.0})) * last_input, Catch::Contains("clear()"));
  {  // nodes that carry no gradient cannot go stale: constants and evaluation without gradients
    V c = tape.constant(values({1}, {5.0}));
    NoGradGuard<double> guard(tape);
    CHECK((c * last_input).value()[0] == 5.0);
  }
  const int nodes = tape.size();
  CHECK_THROWS(tape.param(w));
  CHECK(tape.size() == nodes);  // a refused call leaves no node behind
  tape.clear();
  CHECK(step() == -4.0);
  // zero_grad() keeps the graph and forgets its gradients: recording on top is legitimate again
  tape.zero_grad();
  CHECK(step() == -4.0);
  CHECK(w.grad[0] == -4.0);
}
