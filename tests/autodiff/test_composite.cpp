// A small MLP's whole gradient (inputs and every parameter) against finite differences.
#include "test_util.hpp"

using namespace torus;
using torus::testing::random_tensor;
using torus::testing::require_gradients;
using V = Var<double>;
using Vs = std::vector<V>;

TEST_CASE("two-layer MLP with softmax cross-entropy: full gradient", "[gradcheck][composite]") {
  Tensor<double> onehot(Shape{4, 3});
  const int labels[] = {0, 2, 1, 2};
  for (int i = 0; i < 4; ++i) onehot[i * 3 + labels[i]] = 1;
  auto mlp = [onehot](Tape<double>& tape, const Vs& v) {
    // v: x (4, 5), W1 (6, 5), b1 (6), W2 (3, 6), b2 (3)
    V h = tanh(matmul(v[0], v[1], false, true) + v[2]);
    V logits = matmul(h, v[3], false, true) + v[4];
    return -mean(sum(log_softmax(logits, 1) * tape.constant(onehot), 1));
  };
  require_gradients(mlp, {random_tensor({4, 5}, 50), random_tensor({6, 5}, 51), random_tensor({6}, 52),
                          random_tensor({3, 6}, 53), random_tensor({3}, 54)});
}
