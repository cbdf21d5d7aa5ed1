// Optimiser steps, schedules, EMA and clipping against values computed by hand.
#include <catch2/catch.hpp>

#include "nn/adam.hpp"
#include "nn/ema.hpp"
#include "nn/grad_clip.hpp"
#include "nn/lr_schedule.hpp"
#include "nn/sgd.hpp"

using namespace torus;
using namespace torus::nn;

namespace {
struct One {
  Parameter<double> p{Tensor<double>(Shape{1}, 1.0), {}};
  NamedParameters<double> params() { return {{"w", &p}}; }
  void grad(double g) { p.grad = Tensor<double>(Shape{1}, g); }
  double value() const { return p.value[0]; }
};
}  // namespace

TEST_CASE("SGD: plain, momentum, Nesterov, weight decay", "[nn][optim]") {
  One a;
  Sgd<double> plain(a.params(), {0.1, 0.0, false, 0.0});
  a.grad(0.5);
  plain.step();
  CHECK(a.value() == Approx(0.95));
  One b;
  Sgd<double> momentum(b.params(), {0.1, 0.9, false, 0.0});
  b.grad(0.5);
  momentum.step();  // v = 0.5
  CHECK(b.value() == Approx(0.95));
  b.grad(0.25);
  momentum.step();  // v = 0.9 * 0.5 + 0.25 = 0.7
  CHECK(b.value() == Approx(0.88));
  CHECK(momentum.state().at("w.momentum")[0] == Approx(0.7));
  CHECK(momentum.steps() == 2);
  One c;
  Sgd<double> nesterov(c.params(), {0.1, 0.9, true, 0.0});
  c.grad(0.5);
  nesterov.step();  // p -= 0.1 (0.5 + 0.9 * 0.5)
  CHECK(c.value() == Approx(0.905));
  One d;
  Sgd<double> decay(d.params(), {0.1, 0.0, false, 0.1});
  d.grad(0.5);
  decay.step();  // g = 0.5 + 0.1 * 1
  CHECK(d.value() == Approx(0.94));
  CHECK_THROWS_AS(Sgd<double>(d.params(), {0.1, 0.0, true, 0.0}), std::invalid_argument);
}

TEST_CASE("Adam and AdamW: first steps by hand", "[nn][optim]") {
  One a;
  Adam<double> adam(a.params(), {0.1, 0.9, 0.999, 1e-8, 0.0, false});
  a.grad(0.5);
  adam.step();  // m^ = 0.5, v^ = 0.25: a step of lr
  CHECK(a.value() == Approx(0.9).epsilon(1e-7));
  a.grad(0.5);
  adam.step();  // m = 0.095, v = 0.00049975 -> m^ = 0.5, v^ = 0.25 again
  CHECK(a.value() == Approx(0.8).epsilon(1e-7));
  CHECK(adam.state().at("w.exp_avg")[0] == Approx(0.095));
  CHECK(adam.state().at("w.exp_avg_sq")[0] == Approx(0.00049975));
  One b;
  Adam<double> l2(b.params(), {0.1, 0.9, 0.999, 1e-8, 0.1, false});
  b.grad(0.5);
  l2.step();  // g = 0.6, still a step of lr on the first update
  CHECK(b.value() == Approx(0.9).epsilon(1e-7));
  CHECK(l2.state().at("w.exp_avg")[0] == Approx(0.06));
  One c;
  auto adamw = make_adamw(c.params(), 0.1, 0.1);
  c.grad(0.5);
  adamw.step();  // p = 1 (1 - 0.1 * 0.1) - 0.1
  CHECK(c.value() == Approx(0.89).epsilon(1e-7));
}

TEST_CASE("learning-rate schedules", "[nn][optim]") {
  LrSchedule cosine;
  cosine.kind = LrSchedule::Kind::cosine;
  cosine.base = 0.1;
  cosine.floor = 0.01;
  cosine.total = 100;
  CHECK(cosine.at(0) == Approx(0.1));
  CHECK(cosine.at(50) == Approx(0.055));
  CHECK(cosine.at(100) == Approx(0.01));
  LrSchedule step;
  step.kind = LrSchedule::Kind::step;
  step.base = 0.01;
  step.step_size = 20;
  step.gamma = 0.5;
  CHECK(step.at(19) == Approx(0.01));
  CHECK(step.at(20) == Approx(0.005));
  CHECK(step.at(45) == Approx(0.0025));
  LrSchedule multi;
  multi.kind = LrSchedule::Kind::multistep;
  multi.base = 0.1;
  multi.gamma = 0.2;
  multi.milestones = {60, 120, 160};
  CHECK(multi.at(59) == Approx(0.1));
  CHECK(multi.at(60) == Approx(0.02));
  CHECK(multi.at(160) == Approx(0.0008));
  LrSchedule warm = cosine;
  warm.warmup = 5;
  CHECK(warm.at(0) == Approx(0.02));
  CHECK(warm.at(4) == Approx(0.1));
  CHECK(warm.at(5) == Approx(cosine.at(0)));
  CHECK(warm.at(55) == Approx(cosine.at(50)));
  CHECK(LrSchedule::parse_kind("cosine") == LrSchedule::Kind::cosine);
  CHECK_THROWS_WITH(LrSchedule::parse_kind("poly"), Catch::Contains("multistep"));
}

TEST_CASE("EMA with torch_ema's num_updates warm-up, and swapping", "[nn][optim]") {
  One a;
  a.p.value[0] = 0.0;
  Ema<double> ema(a.params(), 0.9);
  a.p.value[0] = 1.0;
  ema.update();  // d = min(0.9, 2 / 11): shadow = 9/11
  CHECK(ema.shadow()[0][0] == Approx(9.0 / 11.0));
  ema.update();  // d = 3 / 12: shadow = 0.25 * 9/11 + 0.75
  CHECK(ema.shadow()[0][0] == Approx(0.25 * 9.0 / 11.0 + 0.75));
  for (int i = 0; i < 100; ++i) ema.update();
  CHECK(ema.current_decay() == Approx(0.9));
  const double shadow = ema.shadow()[0][0];
  ema.swap();
  CHECK(a.value() == shadow);
  ema.swap();
  CHECK(a.value() == 1.0);
  One b;
  Ema<double> fixed(b.params(), 0.5, false);
  b.p.value[0] = 3.0;
  fixed.update();
  CHECK(fixed.shadow()[0][0] == Approx(2.0));
}

TEST_CASE("clipping by global norm and by value", "[nn][optim]") {
  Parameter<double> a{Tensor<double>(Shape{1}), Tensor<double>(Shape{1}, 3.0)};
  Parameter<double> b{Tensor<double>(Shape{1}), Tensor<double>(Shape{1}, 4.0)};
  NamedParameters<double> params{{"a", &a}, {"b", &b}};
  CHECK(clip_grad_norm(params, 10.0) == Approx(5.0));
  CHECK(a.grad[0] == 3.0);  // under the limit: untouched
  CHECK(clip_grad_norm(params, 1.0) == Approx(5.0));
  CHECK(a.grad[0] == Approx(0.6).epsilon(1e-6));
  CHECK(b.grad[0] == Approx(0.8).epsilon(1e-6));
  b.grad[0] = -7.0;
  clip_grad_value(params, 0.7);
  CHECK(a.grad[0] == Approx(0.6).epsilon(1e-6));
  CHECK(b.grad[0] == -0.7);
}
