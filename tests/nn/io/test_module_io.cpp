// Save, load and embed gives bit-identical outputs for every layer type, batch-norm running
// statistics included; a file for another model is refused and changes nothing.
#include <catch2/catch.hpp>

#include "nn/batchnorm.hpp"
#include "nn/conv2d.hpp"
#include "nn/models.hpp"
#include "nn/io/module_io.hpp"
#include "nn/layers.hpp"
#include "nn/sgd.hpp"

#include <cstdio>
#include <functional>

using namespace torus;
using namespace torus::nn;

namespace {
Tensor<float> input(const Shape& s, double phase) {
  Tensor<float> x(s);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(std::sin(0.73 * double(i) + phase));
  return x;
}

// Trains `a` for one step (moving weights and running statistics), saves it, loads the file into
// `b` (built with another seed) and compares evaluation outputs bit for bit.
void round_trip(Module<float>& a, Module<float>& b, const Shape& in, const std::string& file) {
  Tape<float> tape;
  Sgd<float> sgd(a.parameters(), {0.1, 0.0, false, 0.0});
  Var<float> y = a(tape.constant(input(in, 0.0)));
  tape.backward(sum(y * y));
  sgd.step();
  a.set_training(false);
  b.set_training(false);
  tape.clear();
  const Tensor<float> before = a(tape.constant(input(in, 1.0))).value();
  io::save_module(file, a, {{"model", "test"}});
  CHECK(io::load_module(file, b).at("model") == "test");
  const Tensor<float> after = b(tape.constant(input(in, 1.0))).value();
  REQUIRE(after.shape() == before.shape());
  for (int64_t i = 0; i < before.numel(); ++i) REQUIRE(after[i] == before[i]);
  std::remove(file.c_str());
}

std::unique_ptr<Sequential<float>> every_layer(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto s = std::make_unique<Sequential<float>>();
  s->emplace<Conv2d<float>>(2, 4, 3, rng, Conv2dGeometry{1, 1, 1});
  s->emplace<BatchNorm<float>>(4);
  s->emplace<LeakyReLU<float>>(0.1);
  s->emplace<MaxPool2d<float>>(2);
  s->emplace<Conv2d<float>>(4, 4, 3, rng, Conv2dGeometry{1, 1, 1}, false);
  s->emplace<GELU<float>>();
  s->emplace<AvgPool2d<float>>(2);
  s->emplace<Flatten<float>>();
  s->emplace<Dropout<float>>(0.3, seed);
  s->emplace<Linear<float>>(16, 6, rng);
  s->emplace<BatchNorm<float>>(6);
  s->emplace<Tanh<float>>();
  s->emplace<ReLU<float>>();
  s->emplace<Linear<float>>(6, 4, rng, false);
  return s;
}
}  // namespace

TEST_CASE("save / load / embed is bit-identical for every layer type", "[nn][io]") {
  auto a = every_layer(1), b = every_layer(2);
  round_trip(*a, *b, Shape{3, 2, 8, 8}, "t_every_layer.safetensors");
}

TEST_CASE("save / load / embed is bit-identical for the models and every head mode", "[nn][io]") {
  for (HeadMode mode : {HeadMode::sphere, HeadMode::torusN, HeadMode::torusC, HeadMode::spherization, HeadMode::none}) {
    INFO(head_mode_name(mode));
    std::mt19937_64 r1(1), r2(2);
    FmnistConvNet<float> a({mode, 0, 8, 0, {}}, r1), b({mode, 0, 8, 0, {}}, r2);
    round_trip(a, b, Shape{2, 1, 28, 28}, "t_fmnist.safetensors");
  }
  std::mt19937_64 r1(3), r2(4);
  auto ra = make_resnet20<float>(3, 4, OutputSpec::embedding(HeadMode::torusN, 8), r1);
  auto rb = make_resnet20<float>(3, 4, OutputSpec::embedding(HeadMode::torusN, 8), r2);
  round_trip(*ra, *rb, Shape{2, 3, 16, 16}, "t_resnet.safetensors");
  auto va = make_vgg11_bn<float>(1, {4, 4, 8, 8}, false, OutputSpec::classifier(3), r1);
  auto vb = make_vgg11_bn<float>(1, {4, 4, 8, 8}, false, OutputSpec::classifier(3), r2);
  round_trip(*va, *vb, Shape{2, 1, 32, 32}, "t_vgg.safetensors");
  auto la = make_lenet5<float>(1, OutputSpec::classifier(10), r1), lb = make_lenet5<float>(1, OutputSpec::classifier(10), r2);
  round_trip(*la, *lb, Shape{2, 1, 28, 28}, "t_lenet.safetensors");
}

TEST_CASE("a file of another model is refused and nothing is modified", "[nn][io]") {
  std::mt19937_64 rng(5);
  auto lenet = make_lenet5<float>(1, OutputSpec::classifier(10), rng);
  auto mlp = make_mlp<float>(784, OutputSpec::classifier(10), rng);
  io::save_module("t_lenet_only.safetensors", *lenet);
  const float first = mlp->parameters()[0].second->value[0];
  CHECK_THROWS_AS(io::load_module("t_lenet_only.safetensors", *mlp), io::MismatchError);
  CHECK(mlp->parameters()[0].second->value[0] == first);
  auto wider = make_lenet5<float>(1, OutputSpec::classifier(12), rng);
  CHECK_THROWS_WITH(io::load_module("t_lenet_only.safetensors", *wider),
                    Catch::Contains("t_lenet_only.safetensors") && Catch::Contains("classifier.weight") &&
                        Catch::Contains("[10, 84]") && Catch::Contains("[12, 84]"));
  std::remove("t_lenet_only.safetensors");
}
