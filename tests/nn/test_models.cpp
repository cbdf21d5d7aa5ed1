// The model zoo: shapes, parameter counts and names, train / eval propagation, and LeNet-5
// learning a synthetic 10-class image task to >= 99% training accuracy in seconds.
#include "test_util.hpp"

#include "datasets/synthetic_shapes.hpp"
#include "nn/adam.hpp"
#include "nn/cross_entropy.hpp"
#include "nn/models.hpp"

#include <set>

using namespace torus;
using namespace torus::nn;

namespace {
int64_t count(Module<float>& m) {
  int64_t n = 0;
  for (const auto& [name, p] : m.parameters()) n += p->value.numel();
  return n;
}
bool unique_names(Module<float>& m) {
  std::set<std::string> seen;
  for (const auto& [name, p] : m.parameters())
    if (!seen.insert(name).second) return false;
  return true;
}
}  // namespace

TEST_CASE("LeNet-5 and the MLP: shapes and the classic parameter counts", "[nn][models]") {
  std::mt19937_64 rng(0);
  auto lenet = make_lenet5<float>(1, OutputSpec::classifier(10), rng);
  CHECK(count(*lenet) == 61706);  // LeNet-5 on 28x28 with padding 2
  CHECK(unique_names(*lenet));
  Tape<float> tape;
  CHECK((*lenet)(tape.constant(Tensor<float>(Shape{3, 1, 28, 28}))).shape() == Shape{3, 10});
  auto mlp = make_mlp<float>(784, OutputSpec::classifier(10), rng);
  CHECK(count(*mlp) == 784 * 500 + 500 + 500 * 300 + 300 + 300 * 10 + 10);
  auto embed = make_mlp<float>(784, OutputSpec::embedding(HeadMode::torusN, 16), rng);
  CHECK((*embed)(tape.constant(Tensor<float>(Shape{2, 1, 28, 28}))).shape() == Shape{2, 16});
  CHECK_THROWS_AS(Network<float>(std::make_unique<Sequential<float>>(), 4, OutputSpec{}, rng), std::invalid_argument);
}

TEST_CASE("ResNet-20 and VGG-11-BN: shapes, buffers, train and eval", "[nn][models]") {
  std::mt19937_64 rng(1);
  auto resnet = make_resnet20<float>(3, 8, OutputSpec::embedding(HeadMode::sphere, 8), rng);
  CHECK(unique_names(*resnet));
  Tape<float> tape;
  Tensor<float> x = Tensor<float>(Shape{2, 3, 32, 32});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(std::sin(0.37 * double(i)));
  CHECK((*resnet)(tape.constant(x)).shape() == Shape{2, 8});
  // 1 stem BN + 9 blocks x 2 BN + 2 shortcut BN, each with a mean and a variance
  CHECK(resnet->buffers().size() == 2 * (1 + 18 + 2));
  resnet->set_training(false);
  Var<float> a = (*resnet)(tape.constant(x)), b = (*resnet)(tape.constant(x));
  CHECK(a.value()[3] == b.value()[3]);  // evaluation uses the running statistics: deterministic
  auto vgg = make_vgg11_bn<float>(1, {8, 16, 32, 32}, true, OutputSpec::classifier(10), rng);
  CHECK(unique_names(*vgg));
  CHECK((*vgg)(tape.constant(Tensor<float>(Shape{2, 1, 32, 32}, 0.5f))).shape() == Shape{2, 10});
  CHECK(vgg->buffers().size() == 2 * 8);
}

TEST_CASE("LeNet-5 reaches >= 99% training accuracy on a synthetic 10-class task", "[nn][models][slow]") {
  datasets::SyntheticShapes data;
  data.classes = 10;
  data.seed = 4;
  const int n = 640, batch = 64;
  std::vector<float> pixels;
  std::vector<int> labels;
  data.batch(0, n, 0, pixels, labels);
  std::mt19937_64 rng(3);
  auto lenet = make_lenet5<float>(1, OutputSpec::classifier(10), rng);
  AdamOptions opt;
  opt.lr = 2e-3;
  Adam<float> adam(lenet->parameters(), opt);
  Tape<float> tape;
  for (int epoch = 0; epoch < 8; ++epoch)
    for (int first = 0; first < n; first += batch) {
      tape.clear();
      Tensor<float> x(Shape{batch, 1, 28, 28}, std::vector<float>(pixels.begin() + first * 784, pixels.begin() + (first + batch) * 784));
      const std::vector<int> y(labels.begin() + first, labels.begin() + first + batch);
      adam.zero_grad();
      tape.backward(cross_entropy((*lenet)(tape.constant(x)), y));
      adam.step();
    }
  lenet->set_training(false);
  tape.clear();
  Var<float> logits = (*lenet)(tape.constant(Tensor<float>(Shape{n, 1, 28, 28}, pixels)));
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    const auto row = logits.value().matrix(n, 10).row(i);
    Eigen::Index best;
    row.maxCoeff(&best);
    correct += int(best) == labels[i];
  }
  INFO("training accuracy " << double(correct) / n);
  CHECK(double(correct) / n >= 0.99);
}

TEST_CASE("the audio CNN: any spectrogram size, every head, gradients reach the first layer", "[nn][models]") {
  std::mt19937_64 rng(2);
  for (HeadMode mode : {HeadMode::sphere, HeadMode::torusN, HeadMode::torusC}) {
    auto net = make_audio_cnn<float>(1, 4, OutputSpec::embedding(mode, 8), rng);
    CHECK(unique_names(*net));
    CHECK(net->buffers().size() == 2 * 8);  // 8 batch norms, each a mean and a variance
    Tape<float> tape;
    Tensor<float> x(Shape{2, 1, 32, 50});  // 32 mel bands, 50 frames: pooled 4 times, then averaged
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(std::sin(0.11 * double(i)));
    const Var<float> z = (*net)(tape.constant(x));
    CHECK(z.shape() == Shape{2, 8});
    for (auto& [name, p] : net->parameters()) p->zero_grad();
    tape.backward(sum(mul(z, z)));
    const auto params = net->parameters();
    REQUIRE(params.front().first == "backbone.0.weight");
    const Tensor<float>& g = params.front().second->grad;
    float largest = 0;
    for (int64_t i = 0; i < g.numel(); ++i) largest = std::max(largest, std::fabs(g[i]));
    CHECK(largest > 0);
    tape.clear();
    CHECK((*net)(tape.constant(Tensor<float>(Shape{1, 1, 64, 17}, 0.3f))).shape() == Shape{1, 8});
  }
}
