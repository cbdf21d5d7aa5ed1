#include "train/model_factory.hpp"

#include "nn/models.hpp"

namespace torus::train {

namespace {
std::string shape_text(const std::vector<int64_t>& s) {
  std::string t;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) t += 'x';
    t += std::to_string(s[i]);
  }
  return t;
}
}  // namespace

Model make_model(const TrainConfig& c, const std::vector<int64_t>& input_shape, std::mt19937_64& rng) {
  Model m;
  m.mode = nn::parse_head_mode(c.head);
  const nn::OutputSpec out = nn::OutputSpec::embedding(m.mode, c.dim);
  const bool image = input_shape.size() == 3;
  const int64_t channels = image ? input_shape[0] : 0;
  const std::string where = "model.arch " + c.arch + " with " + (image ? "images of " : "feature vectors of ") +
                            shape_text(input_shape);
  if (c.arch == "head") {
    if (image) throw ConfigError(where + ": an embedding head alone takes feature vectors (data.dataset = features)");
    auto net = std::make_unique<nn::Network<float>>(std::make_unique<nn::Sequential<float>>(), input_shape[0], out, rng);
    m.head = net->head();
    m.net = std::move(net);
  } else if (!image) {
    throw ConfigError(where + ": this architecture takes images; use model.arch = head for feature vectors");
  } else if (c.arch == "convnet") {
    if (input_shape != std::vector<int64_t>{1, 28, 28})
      throw ConfigError(where + ": the reference conv net takes 1x28x28 images (Fashion-MNIST, MNIST)");
    auto net = std::make_unique<nn::FmnistConvNet<float>>(*out.head, rng);
    m.head = &net->head();
    m.net = std::move(net);
  } else {
    std::unique_ptr<nn::Network<float>> net;
    if (c.arch == "lenet5") net = nn::make_lenet5<float>(channels, out, rng);
    else if (c.arch == "mlp") net = nn::make_mlp<float>(input_shape[0] * input_shape[1] * input_shape[2], out, rng);
    else if (c.arch == "resnet20") net = nn::make_resnet20<float>(channels, c.width, out, rng);
    else if (c.arch == "audio_cnn") net = nn::make_audio_cnn<float>(channels, c.width, out, rng);
    else if (c.arch == "vgg11_bn")
      net = nn::make_vgg11_bn<float>(channels, {c.width, 2 * c.width, 4 * c.width, 8 * c.width}, false, out, rng);
    else throw ConfigError("model.arch: unknown architecture \"" + c.arch + "\"");
    m.head = net->head();
    m.net = std::move(net);
  }
  // One zero input through the network: a shape it cannot take fails here, with a message,
  // rather than at the first training step.
  Tape<float> tape;
  NoGradGuard<float> no_grad(tape);
  std::vector<int64_t> dims = {2};
  dims.insert(dims.end(), input_shape.begin(), input_shape.end());
  m.net->set_training(false);
  try {
    const Var<float> z = m.net->forward(tape.constant(Tensor<float>(Shape(dims))));
    if (z.shape().rank() != 2 || z.shape()[1] != c.dim) throw std::runtime_error("output " + z.shape().str());
  } catch (const std::exception& e) {
    throw ConfigError(where + ": the network does not take this input (" + e.what() + ")");
  }
  m.net->set_training(true);
  return m;
}

}  // namespace torus::train
