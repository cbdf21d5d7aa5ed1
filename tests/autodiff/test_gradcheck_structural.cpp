// Gradient checks of matmul, reductions, softmax family and shape ops.
#include "test_util.hpp"

using namespace torus;
using torus::testing::random_tensor;
using torus::testing::require_gradients;
using torus::testing::values;
using V = Var<double>;
using Vs = std::vector<V>;

TEST_CASE("matmul with every transpose combination", "[gradcheck]") {
  const auto a = random_tensor({3, 4}, 20), b = random_tensor({4, 5}, 21);
  const auto at = random_tensor({4, 3}, 22), bt = random_tensor({5, 4}, 23);
  require_gradients([](Tape<double>&, const Vs& x) { return matmul(x[0], x[1]); }, {a, b});
  require_gradients([](Tape<double>&, const Vs& x) { return matmul(x[0], x[1], false, true); }, {a, bt});
  require_gradients([](Tape<double>&, const Vs& x) { return matmul(x[0], x[1], true, false); }, {at, b});
  require_gradients([](Tape<double>&, const Vs& x) { return matmul(x[0], x[1], true, true); }, {at, bt});
  // a Gram matrix uses the same input twice
  require_gradients([](Tape<double>&, const Vs& x) { return matmul(x[0], x[0], false, true); }, {a});
}

TEST_CASE("matmul on a larger problem is checked by random projections", "[gradcheck]") {
  const auto a = random_tensor({40, 30}, 24), b = random_tensor({30, 20}, 25);
  require_gradients([](Tape<double>&, const Vs& x) { return matmul(x[0], x[1]); }, {a, b});
}

TEST_CASE("sum, mean and max over everything and along each axis", "[gradcheck]") {
  const auto x = random_tensor({2, 3, 4}, 26);  // continuous random values: no ties for max
  require_gradients([](Tape<double>&, const Vs& v) { return sum(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return mean(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return max(v[0]); }, {x});
  for (int axis : {0, 1, 2, -1}) {
    INFO("axis " << axis);
    require_gradients([axis](Tape<double>&, const Vs& v) { return sum(v[0], axis); }, {x});
    require_gradients([axis](Tape<double>&, const Vs& v) { return sum(v[0], axis, true); }, {x});
    require_gradients([axis](Tape<double>&, const Vs& v) { return mean(v[0], axis); }, {x});
    require_gradients([axis](Tape<double>&, const Vs& v) { return max(v[0], axis); }, {x});
    require_gradients([axis](Tape<double>&, const Vs& v) { return max(v[0], axis, true); }, {x});
  }
}

TEST_CASE("logsumexp, log_softmax and softmax along each axis", "[gradcheck]") {
  const auto x = random_tensor({3, 4}, 27, -3.0, 3.0);
  for (int axis : {0, 1}) {
    INFO("axis " << axis);
    require_gradients([axis](Tape<double>&, const Vs& v) { return logsumexp(v[0], axis); }, {x});
    require_gradients([axis](Tape<double>&, const Vs& v) { return log_softmax(v[0], axis); }, {x});
    require_gradients([axis](Tape<double>&, const Vs& v) { return softmax(v[0], axis); }, {x});
  }
  // large offsets: without the max subtraction exp would overflow
  const auto big = values({2, 3}, {1000.0, 1001.0, 999.5, -1000.0, -1002.0, -999.0});
  require_gradients([](Tape<double>&, const Vs& v) { return logsumexp(v[0], 1); }, {big});
  require_gradients([](Tape<double>&, const Vs& v) { return log_softmax(v[0], 1); }, {big});
  // a masked entry (-inf) in each row, as in SupCon's self-exclusion
  const double inf = std::numeric_limits<double>::infinity();
  Tensor<double> mask(Shape{3, 4});
  for (int i = 0; i < 3; ++i) mask[i * 4 + i] = 1;
  require_gradients([mask, inf](Tape<double>&, const Vs& v) { return logsumexp(masked_fill(v[0], mask, -inf), 1); }, {x});
}

TEST_CASE("reshape, permute, transpose and the NCHW <-> NHWC composites", "[gradcheck]") {
  const auto x = random_tensor({2, 3, 2, 2}, 28);
  require_gradients([](Tape<double>&, const Vs& v) { return reshape(v[0], {4, -1}); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return permute(v[0], {2, 0, 3, 1}); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return transpose(v[0], 1, 3); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return nchw_to_nhwc(v[0]); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return nhwc_to_nchw(v[0]); }, {x});
  // a permuted value that is used again downstream
  require_gradients([](Tape<double>&, const Vs& v) { return nhwc_to_nchw(nchw_to_nhwc(v[0])) * v[0]; }, {x});
}

TEST_CASE("slice, concat and index_select", "[gradcheck]") {
  const auto x = random_tensor({4, 3, 2}, 29), y = random_tensor({4, 2, 2}, 30);
  require_gradients([](Tape<double>&, const Vs& v) { return slice(v[0], 1, 1, 3); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return slice(v[0], 0, 2, 4); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return slice(v[0], -1, 0, 1); }, {x});
  require_gradients([](Tape<double>&, const Vs& v) { return concat<double>({v[0], v[1]}, 1); }, {x, y});
  require_gradients([](Tape<double>&, const Vs& v) { return concat<double>({v[1], v[0], v[1]}, 1); }, {x, y});
  require_gradients([](Tape<double>&, const Vs& v) { return concat<double>({v[0], v[0]}, 0); }, {x});
  // repeated rows must collect the sum of their gradients
  require_gradients([](Tape<double>&, const Vs& v) { return index_select(v[0], {3, 0, 3, 1, 3}); }, {x});
}

TEST_CASE("masked_fill passes gradient only where the mask is zero", "[gradcheck]") {
  const auto x = random_tensor({3, 4}, 31);
  Tensor<double> mask(Shape{3, 4});
  mask[1] = mask[6] = mask[11] = 1;
  require_gradients([mask](Tape<double>&, const Vs& v) { return masked_fill(v[0], mask, 7.0); }, {x});
  Tensor<double> row_mask(Shape{4}, std::vector<double>{0, 1, 0, 0});  // broadcast over rows
  require_gradients([row_mask](Tape<double>&, const Vs& v) { return masked_fill(v[0], row_mask, -2.0); }, {x});
}

TEST_CASE("cumsum, inclusive and exclusive, along each axis", "[gradcheck]") {
  const auto x = random_tensor({3, 4, 2}, 32);
  for (int axis : {0, 1, 2}) {
    INFO("axis " << axis);
    require_gradients([axis](Tape<double>&, const Vs& v) { return cumsum(v[0], axis); }, {x});
    require_gradients([axis](Tape<double>&, const Vs& v) { return cumsum(v[0], axis, true); }, {x});
  }
  Tape<double> tape;
  V c = cumsum(tape.constant(values({1, 4}, {1, 2, 3, 4})), 1, true);
  CHECK(c.value()[0] == 0.0);
  CHECK(c.value()[3] == 6.0);
}
