// The differentiable wrap ops of nn/flat_torus: their values are the geometry kernels bit for bit
// (float and double, large |h|, exact integers), hand values and gradients at the wrap points,
// and gradient checks within 1e-3 of a wrap.
#include "test_util.hpp"

#include "geometry/flat_torus.hpp"
#include "nn/flat_torus.hpp"

#include <vector>

using namespace torus;
using namespace torus::nn;
using torus::testing::random_tensor;
using torus::testing::require_gradients;
using torus::testing::values;
using V = Var<double>;
using Vs = std::vector<V>;

namespace {
template <typename T>
void check_single_path() {
  const std::vector<T> a = {T(-2.3), T(-0.5), T(0), T(0.49), T(0.5), T(0.99), T(4.01), T(-1e-20), T(1000.3),
                            T(-2047.7), T(1048576.25), T(-1048575.75), T(3), T(-7)};
  const std::vector<T> b = {T(0.1), T(0), T(0.75), T(-0.01), T(0), T(0), T(0.5), T(0), T(-999.8),
                            T(0.2), T(0.25), T(1e6), T(2.5), T(0.5)};
  const int64_t n = int64_t(a.size());
  Tape<T> tape;
  Var<T> va = tape.constant(Tensor<T>(Shape{n}, a)), vb = tape.constant(Tensor<T>(Shape{n}, b));
  Var<T> w = wrap01(va), d = wrapped_diff(va, vb);
  for (int64_t i = 0; i < n; ++i) {
    INFO("a = " << a[size_t(i)] << ", b = " << b[size_t(i)]);
    CHECK(w.value()[i] == geometry::wrap01(a[size_t(i)]));
    CHECK(d.value()[i] == geometry::wrapped_diff(a[size_t(i)], b[size_t(i)]));
  }
  // with broadcasting: the rows (a, a reversed) each against b
  std::vector<T> two(a);
  two.insert(two.end(), a.rbegin(), a.rend());
  Var<T> rows = wrapped_diff(tape.constant(Tensor<T>(Shape{2, n}, two)), vb);
  for (int64_t i = 0; i < n; ++i) CHECK(rows.value()[n + i] == geometry::wrapped_diff(a[size_t(n - 1 - i)], b[size_t(i)]));
}
}  // namespace

TEST_CASE("wrap01 and wrapped_diff compute their values with the geometry kernels, bit for bit", "[nn][single-path]") {
  check_single_path<float>();
  check_single_path<double>();
}

TEST_CASE("wrap01 and wrapped_diff values and gradients at the wrap points", "[nn][values]") {
  Tape<double> tape;
  V x = tape.variable(values({6}, {0.0, 1.0, -1.0, 2.25, -0.25, -1e-20}));
  V w = wrap01(x);
  const double expect[] = {0.0, 0.0, 0.0, 0.25, 0.75, 0.0};
  for (int i = 0; i < 6; ++i) CHECK(w.value()[i] == expect[i]);
  tape.backward(sum(w));
  for (int i = 0; i < 6; ++i) CHECK(x.grad()[i] == 1.0);  // gradient 1 even exactly on the jump

  Tape<double> t2;
  V a = t2.variable(values({5}, {0.9, 0.1, 0.5, 0.0, 3.7}));
  V b = t2.variable(values({5}, {0.1, 0.9, 0.0, 0.5, 0.2}));
  V d = wrapped_diff(a, b);
  CHECK(d.value()[0] == Approx(-0.2).margin(1e-15));
  CHECK(d.value()[1] == Approx(0.2).margin(1e-15));
  CHECK(d.value()[2] == -0.5);  // exactly half a turn: the half-open interval gives -1/2
  CHECK(d.value()[3] == -0.5);
  CHECK(d.value()[4] == Approx(-0.5).margin(1e-15));
  t2.backward(sum(d));
  for (int i = 0; i < 5; ++i) {
    CHECK(a.grad()[i] == 1.0);
    CHECK(b.grad()[i] == -1.0);
  }
}

TEST_CASE("wrap01 stays in [0, 1) in float for tiny negative inputs", "[nn][values]") {
  Tape<float> tape;
  Var<float> w = wrap01(tape.constant(Tensor<float>(Shape{3}, std::vector<float>{-1e-9f, -1e-30f, 1.0f - 1e-7f})));
  for (int i = 0; i < 3; ++i) {
    CHECK(w.value()[i] >= 0.0f);
    CHECK(w.value()[i] < 1.0f);
  }
}

TEST_CASE("wrap01 and wrapped_diff, random and within 1e-3 of a wrap", "[nn][gradcheck]") {
  const auto x = random_tensor({3, 4}, 12, -3.0, 3.0);
  require_gradients([](Tape<double>&, const Vs& v) { return wrap01(v[0]); }, {x});
  // 5e-4 off an integer: central differences with eps 1e-6 stay on one side of the jump
  const auto near = values({6}, {0.9995, 1.0005, -0.0005, 0.0005, 2.9995, -1.9995});
  require_gradients([](Tape<double>&, const Vs& v) { return wrap01(v[0]); }, {near});
  const auto a = random_tensor({3, 4}, 13, -2.0, 2.0), b = random_tensor({3, 4}, 14, -2.0, 2.0);
  require_gradients([](Tape<double>&, const Vs& v) { return wrapped_diff(v[0], v[1]); }, {a, b});
  // differences 5e-4 off the jump at +-1/2
  const auto a2 = values({4}, {0.4995, 0.5005, -0.4995, 1.5005});
  const auto b2 = values({4}, {0.0, 0.0, 0.0, 0.0});
  require_gradients([](Tape<double>&, const Vs& v) { return wrapped_diff(v[0], v[1]); }, {a2, b2});
  // pairwise differences by broadcasting (B, 1, K) against (1, B, K)
  const auto p = random_tensor({3, 1, 2}, 15, 0.0, 1.0), q = random_tensor({1, 3, 2}, 16, 0.0, 1.0);
  require_gradients([](Tape<double>&, const Vs& v) { return wrapped_diff(v[0], v[1]); }, {p, q});
}

TEST_CASE("pairwise wrapped distances on the flat torus: full gradient", "[gradcheck][composite]") {
  // sum over pairs of the squared geodesic distance between points of [0,1)^2
  auto f = [](Tape<double>&, const Vs& v) {
    V a = reshape(v[0], {4, 1, 2}), b = reshape(v[0], {1, 4, 2});
    V d = wrapped_diff(a, b);
    return sum(d * d);
  };
  require_gradients(f, {random_tensor({4, 2}, 55, 0.0, 1.0)});
}
