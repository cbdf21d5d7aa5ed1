#include "train/tools/spirals.hpp"

#include "autodiff/ops.hpp"
#include "nn/adam.hpp"
#include "nn/linear.hpp"
#include "train/elapsed.hpp"

#include <chrono>
#include <cmath>
#include <numbers>
#include <random>

namespace torus::tools {

void make_spirals(int n, double noise, uint64_t seed, Tensor<float>& points, std::vector<int>& labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> jitter(0.0, noise);
  points = Tensor<float>(Shape{2 * int64_t(n), 2});
  labels.assign(2 * n, 0);
  const double turns = 1.75;  // each arm winds 1.75 times around the centre
  for (int i = 0; i < n; ++i) {
    const double t = 0.15 + (1.0 - 0.15) * i / (n - 1);  // radius in (0, 1]
    const double a = 2 * std::numbers::pi * turns * t;
    for (int c = 0; c < 2; ++c) {
      const double sign = c == 0 ? 1.0 : -1.0;  // the second arm is the first rotated by pi
      const int row = 2 * i + c;
      points[2 * row] = float(sign * t * std::cos(a) + jitter(rng));
      points[2 * row + 1] = float(sign * t * std::sin(a) + jitter(rng));
      labels[row] = c;
    }
  }
}

SpiralsResult train_spirals(const SpiralsOptions& opt, const std::function<void(int, double, double)>& on_log) {
  Tensor<float> points;
  std::vector<int> labels;
  make_spirals(opt.points_per_class, opt.noise, opt.seed, points, labels);
  const int64_t n = points.shape()[0];
  Tensor<float> onehot(Shape{n, 2});  // (2N, 2)
  for (int64_t i = 0; i < n; ++i) onehot[2 * i + labels[i]] = 1;

  std::mt19937_64 rng(opt.seed + 1);
  nn::Linear<float> fc1(2, opt.hidden, rng), fc2(opt.hidden, opt.hidden, rng), fc3(opt.hidden, 2, rng);
  nn::NamedParameters<float> params;
  nn::append_named(params, "fc1", fc1.parameters());
  nn::append_named(params, "fc2", fc2.parameters());
  nn::append_named(params, "fc3", fc3.parameters());
  nn::AdamOptions adam_options;
  adam_options.lr = opt.learning_rate;
  nn::Adam<float> adam(params, adam_options);

  SpiralsResult result;
  Tape<float> tape;
  const auto start = std::chrono::steady_clock::now();
  for (int step = 1; step <= opt.steps; ++step) {
    tape.clear();
    Var<float> x = tape.constant(points);
    Var<float> logits = fc3(tanh(fc2(tanh(fc1(x)))));                          // (2N, 2)
    Var<float> loss = -mean(sum(log_softmax(logits, 1) * tape.constant(onehot), 1));  // cross-entropy
    adam.zero_grad();
    tape.backward(loss);
    adam.step();

    int correct = 0;
    const Tensor<float>& z = logits.value();
    for (int64_t i = 0; i < n; ++i) correct += (z[2 * i + 1] > z[2 * i]) == (labels[i] == 1);
    result.accuracy = double(correct) / double(n);  // of the weights before this step's update
    result.loss.push_back(loss.value().item());
    if (on_log && ((opt.log_every > 0 && step % opt.log_every == 0) || step == opt.steps)) {
      on_log(step, result.loss.back(), result.accuracy);
    }
  }
  result.seconds = train::seconds_since(start);
  return result;
}

}  // namespace torus::tools
