// conv2d and pooling: naive loop references (float) for the fast paths, and double-precision
// gradient checks over strides, padding, dilation and the no-bias case.
#include "test_util.hpp"

#include "nn/conv2d.hpp"
#include "nn/conv_pool.hpp"
#include "nn/pool2d.hpp"

using namespace torus;
using namespace torus::nn;
using torus::testing::random_tensor;
using torus::testing::require_gradients;
using V = Var<double>;
using Vs = std::vector<V>;

namespace {
Tensor<float> to_float(const Tensor<double>& t) {
  Tensor<float> f(t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) f[i] = float(t[i]);
  return f;
}

// Direct definition of cross-correlation, one output element at a time.
Tensor<float> naive_conv(const Tensor<float>& x, const Tensor<float>& w, const Tensor<float>* b, const Conv2dGeometry& g) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t O = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  const int64_t Ho = (H + 2 * g.padding - g.dilation * (kh - 1) - 1) / g.stride + 1;
  const int64_t Wo = (W + 2 * g.padding - g.dilation * (kw - 1) - 1) / g.stride + 1;
  Tensor<float> out(Shape{N, O, Ho, Wo});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oy = 0; oy < Ho; ++oy)
        for (int64_t ox = 0; ox < Wo; ++ox) {
          double acc = b ? (*b)[o] : 0.0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t y = oy * g.stride - g.padding + i * g.dilation, xx = ox * g.stride - g.padding + j * g.dilation;
                if (y >= 0 && y < H && xx >= 0 && xx < W)
                  acc += double(x[((n * C + c) * H + y) * W + xx]) * w[((o * C + c) * kh + i) * kw + j];
              }
          out[((n * O + o) * Ho + oy) * Wo + ox] = float(acc);
        }
  return out;
}

Tensor<float> naive_pool(const Tensor<float>& x, int64_t k, int64_t stride, bool take_max) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t Ho = (H - k) / stride + 1, Wo = (W - k) / stride + 1;
  Tensor<float> out(Shape{N, C, Ho, Wo});
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t oy = 0; oy < Ho; ++oy)
      for (int64_t ox = 0; ox < Wo; ++ox) {
        float best = -1e30f;
        double sum = 0;
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j) {
            const float v = x[(p * H + oy * stride + i) * W + ox * stride + j];
            best = std::max(best, v);
            sum += v;
          }
        out[(p * Ho + oy) * Wo + ox] = take_max ? best : float(sum / double(k * k));
      }
  return out;
}

void require_close(const Tensor<float>& a, const Tensor<float>& b, float tol) {
  REQUIRE(a.shape() == b.shape());
  float worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  INFO("largest difference " << worst);
  CHECK(worst <= tol);
}
}  // namespace

TEST_CASE("conv2d matches the naive loops in float", "[nn][conv]") {
  const Conv2dGeometry geometries[] = {{1, 1, 1}, {2, 0, 1}, {1, 2, 2}, {3, 1, 1}};
  for (const auto& g : geometries) {
    INFO("stride " << g.stride << " padding " << g.padding << " dilation " << g.dilation);
    const auto x = to_float(random_tensor({3, 4, 9, 8}, 120));
    const auto w = to_float(random_tensor({5, 4, 3, 3}, 121));
    const auto b = to_float(random_tensor({5}, 122));
    Tape<float> tape;
    Var<float> y = conv2d(tape.constant(x), tape.constant(w), tape.constant(b), g);
    require_close(y.value(), naive_conv(x, w, &b, g), 1e-5f);
    Var<float> y2 = conv2d(tape.constant(x), tape.constant(w), Var<float>(), g);
    require_close(y2.value(), naive_conv(x, w, nullptr, g), 1e-5f);
  }
}

// "Same" stride-1 convolutions take the shifted-row im2col / col2im path: square and non-square
// kernels, dilation, a 1x1 kernel, and an image narrower than the kernel's reach.
TEST_CASE("conv2d same-padding fast path matches the naive loops and its gradients", "[nn][conv][gradcheck]") {
  struct Case {
    int64_t kh, kw, H, W;
    Conv2dGeometry g;
  };
  const Case cases[] = {{3, 3, 9, 8, {1, 1, 1}}, {5, 5, 6, 7, {1, 2, 1}}, {1, 1, 5, 4, {1, 0, 1}},
                        {3, 1, 7, 5, {1, 0, 1}}, {3, 3, 6, 6, {1, 2, 2}}, {5, 5, 2, 2, {1, 2, 1}},
                        {3, 3, 1, 1, {1, 1, 1}}};
  for (const Case& c : cases) {
    INFO("kernel " << c.kh << "x" << c.kw << " image " << c.H << "x" << c.W << " padding " << c.g.padding
                   << " dilation " << c.g.dilation);
    const auto x = to_float(random_tensor({2, 3, c.H, c.W}, 130));
    const auto w = to_float(random_tensor({4, 3, c.kh, c.kw}, 131));
    const auto b = to_float(random_tensor({4}, 132));
    Tape<float> tape;
    const Var<float> y = conv2d(tape.constant(x), tape.constant(w), tape.constant(b), c.g);
    CHECK(y.shape()[3] == c.W);
    require_close(y.value(), naive_conv(x, w, &b, c.g), 1e-5f);
    require_gradients([g = c.g](Tape<double>&, const Vs& v) { return conv2d(v[0], v[1], v[2], g); },
                      {random_tensor({2, 2, c.H, c.W}, 133), random_tensor({3, 2, c.kh, c.kw}, 134), random_tensor({3}, 135)});
  }
  // the input gradient is written per image when conv2d is its first contribution and added
  // otherwise
  const std::vector<Tensor<double>> inputs{random_tensor({2, 2, 5, 5}, 136), random_tensor({3, 2, 3, 3}, 137)};
  require_gradients([](Tape<double>&, const Vs& v) {
    return sum(conv2d(v[0], v[1], V(), Conv2dGeometry{1, 1, 1})) + sum(v[0] * v[0]);
  }, inputs);
  require_gradients([](Tape<double>&, const Vs& v) {
    const V square = sum(v[0] * v[0]);
    return square + sum(conv2d(v[0], v[1], V(), Conv2dGeometry{1, 1, 1}));
  }, inputs);
}

TEST_CASE("conv2d gradients: input, weight, bias, over strides, padding and dilation", "[nn][gradcheck]") {
  const Conv2dGeometry geometries[] = {{1, 1, 1}, {2, 0, 1}, {1, 1, 2}};
  for (const auto& g : geometries) {
    INFO("stride " << g.stride << " padding " << g.padding << " dilation " << g.dilation);
    require_gradients([g](Tape<double>&, const Vs& v) { return conv2d(v[0], v[1], v[2], g); },
                      {random_tensor({2, 2, 5, 5}, 123), random_tensor({3, 2, 3, 3}, 124), random_tensor({3}, 125)});
  }
  require_gradients([](Tape<double>&, const Vs& v) { return conv2d(v[0], v[1], Var<double>(), Conv2dGeometry{1, 0, 1}); },
                    {random_tensor({1, 3, 4, 4}, 126), random_tensor({2, 3, 2, 2}, 127)});
}

TEST_CASE("pooling matches the naive loops, and its gradients", "[nn][gradcheck]") {
  const auto x = to_float(random_tensor({2, 3, 8, 7}, 128));
  Tape<float> tape;
  require_close(max_pool2d(tape.constant(x), 2).value(), naive_pool(x, 2, 2, true), 0.0f);
  require_close(max_pool2d(tape.constant(x), 3, 2).value(), naive_pool(x, 3, 2, true), 0.0f);
  require_close(avg_pool2d(tape.constant(x), 2).value(), naive_pool(x, 2, 2, false), 1e-6f);
  require_close(avg_pool2d(tape.constant(x), 3, 1).value(), naive_pool(x, 3, 1, false), 1e-6f);
  // random inputs have no ties, so max pooling is differentiable at the probes
  const auto xd = random_tensor({2, 2, 5, 4}, 129);
  require_gradients([](Tape<double>&, const Vs& v) { return max_pool2d(v[0], 2); }, {xd});
  require_gradients([](Tape<double>&, const Vs& v) { return max_pool2d(v[0], 3, 1); }, {xd});
  require_gradients([](Tape<double>&, const Vs& v) { return avg_pool2d(v[0], 2); }, {xd});
  require_gradients([](Tape<double>&, const Vs& v) { return avg_pool2d(v[0], 2, 1); }, {xd});
  require_gradients([](Tape<double>&, const Vs& v) { return global_avg_pool(v[0]); }, {xd});
  // 2x2 windows that tile the input write its gradient instead of adding to it; both orders of a
  // second consumer (added before or after the pooling's own backward) must still sum
  const auto tiled = random_tensor({2, 2, 4, 6}, 142);
  require_gradients([](Tape<double>&, const Vs& v) { return max_pool2d(v[0], 2); }, {tiled});
  require_gradients([](Tape<double>&, const Vs& v) { return sum(max_pool2d(v[0], 2)) + sum(v[0] * v[0]); }, {tiled});
  require_gradients([](Tape<double>&, const Vs& v) {
    const V square = sum(v[0] * v[0]);
    return square + sum(max_pool2d(v[0], 2));
  }, {tiled});
  require_gradients([](Tape<double>&, const Vs& v) { return sum(relu(v[0])) + sum(tanh(v[0])); }, {tiled});
  // a tie sends the gradient to the first maximum
  Tape<double> t2;
  V tie = t2.variable(Tensor<double>(Shape{1, 1, 2, 2}, {1.0, 3.0, 3.0, 0.0}));
  t2.backward(sum(max_pool2d(tie, 2)));
  CHECK(tie.grad()[1] == 1.0);
  CHECK(tie.grad()[2] == 0.0);
  CHECK_THROWS_AS(max_pool2d(t2.constant(Tensor<double>(Shape{1, 1, 2, 2})), 3), ShapeError);
}

// The fused primitive against the composition it replaces, in float (values and gradients bit for
// bit) and by double-precision gradient checks.
TEST_CASE("conv2d_max_pool2 equals max_pool2d(conv2d) and its gradients", "[nn][conv][gradcheck]") {
  const auto x = to_float(random_tensor({3, 4, 10, 8}, 150));
  const auto w = to_float(random_tensor({5, 4, 3, 3}, 151));
  const auto b = to_float(random_tensor({5}, 152));
  const auto r = to_float(random_tensor({3, 5, 5, 4}, 153));
  Tape<float> tapes[2];  // one per path: a second backward on one tape would rerun the first
  Var<float> xs[2], ws[2], bs[2];
  Tensor<float> ys[2];
  for (int path = 0; path < 2; ++path) {
    Tape<float>& tape = tapes[path];
    xs[path] = tape.variable(x);
    ws[path] = tape.variable(w);
    bs[path] = tape.variable(b);
    const Var<float> y = path == 0 ? conv2d_max_pool2(xs[0], ws[0], bs[0], Conv2dGeometry{1, 1, 1})
                                   : max_pool2d(conv2d(xs[1], ws[1], bs[1], Conv2dGeometry{1, 1, 1}), 2);
    REQUIRE(y.shape() == Shape{3, 5, 5, 4});
    ys[path] = y.value();
    tape.backward(sum(y * tape.constant(r)));
  }
  require_close(ys[0], ys[1], 0.0f);
  require_close(xs[0].grad(), xs[1].grad(), 0.0f);
  require_close(ws[0].grad(), ws[1].grad(), 0.0f);
  require_close(bs[0].grad(), bs[1].grad(), 0.0f);

  require_gradients([](Tape<double>&, const Vs& v) { return conv2d_max_pool2(v[0], v[1], v[2], Conv2dGeometry{1, 1, 1}); },
                    {random_tensor({2, 2, 6, 4}, 154), random_tensor({3, 2, 3, 3}, 155), random_tensor({3}, 156)});
  require_gradients([](Tape<double>&, const Vs& v) { return conv2d_max_pool2(v[0], v[1], V(), Conv2dGeometry{2, 0, 1}); },
                    {random_tensor({2, 3, 9, 9}, 157), random_tensor({2, 3, 2, 2}, 158)});
  // an odd output (5x5) is not tiled by the windows: the composition itself, last node max_pool2d
  Tape<double> t2;
  const V odd = conv2d_max_pool2(t2.constant(random_tensor({1, 2, 5, 5}, 159)), t2.constant(random_tensor({3, 2, 3, 3}, 160)),
                                 V(), Conv2dGeometry{1, 1, 1});
  CHECK(odd.shape() == Shape{1, 3, 2, 2});
  CHECK(std::string(t2.node(odd.id()).op) == "max_pool2d");
  CHECK_THROWS_AS(conv2d_max_pool2(t2.constant(Tensor<double>(Shape{1, 2, 4, 4})), t2.constant(Tensor<double>(Shape{3, 1, 3, 3})), V()),
                  ShapeError);
}

TEST_CASE("Conv2d module: PyTorch layout and init bound", "[nn][conv]") {
  std::mt19937_64 rng(1);
  Conv2d<float> conv(4, 6, 3, rng, {1, 1, 1});
  CHECK(conv.weight.value.shape() == Shape{6, 4, 3, 3});
  const float bound = 1.0f / 6.0f;  // 1 / sqrt(4 * 3 * 3)
  CHECK(conv.weight.value.array().abs().maxCoeff() <= bound);
  CHECK(conv.bias.value.array().abs().maxCoeff() <= bound);
  Tape<float> tape;
  CHECK(conv(tape.constant(Tensor<float>(Shape{2, 4, 7, 7}))).shape() == Shape{2, 6, 7, 7});
  CHECK_THROWS_AS(conv(tape.constant(Tensor<float>(Shape{2, 3, 7, 7}))), ShapeError);
}

TEST_CASE("relu and max pooling commute: identical values and gradients", "[nn][values]") {
  auto a = [](Tape<double>&, const Vs& v) { return max_pool2d(relu(v[0]), 2); };
  auto b = [](Tape<double>&, const Vs& v) { return relu(max_pool2d(v[0], 2)); };
  auto x = random_tensor({2, 3, 6, 4}, 141);
  for (int i = 0; i < 8; ++i) x[i] = -std::abs(x[i]);  // a window that is entirely negative
  Tape<double> ta, tb;
  V va = ta.variable(x), vb = tb.variable(x);
  V ya = a(ta, {va}), yb = b(tb, {vb});
  for (int64_t i = 0; i < ya.value().numel(); ++i) CHECK(ya.value()[i] == yb.value()[i]);
  const auto seed = random_tensor(ya.shape(), 142);
  ta.backward(ya, seed);
  tb.backward(yb, seed);
  for (int64_t i = 0; i < x.numel(); ++i) CHECK(va.grad()[i] == vb.grad()[i]);
}
