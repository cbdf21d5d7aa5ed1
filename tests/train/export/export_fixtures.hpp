// What the export tests share: structured random images, a randomly initialised reference conv net
// with a torusN head, its calibrated int8 network, scratch folders and run folders.
#pragma once

#include "nn/io/atomic_file.hpp"
#include "train/export/int8_net.hpp"
#include "train/model_factory.hpp"
#include "train/training_state.hpp"

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace torus::train::exportq::testing {

inline const InputNormalization kFmnist{0.2860, 0.3530};

inline std::string fresh_dir(const std::string& name) {
  namespace fs = std::filesystem;
  const std::string dir = (fs::temp_directory_path() / ("torus_test_export_" + name)).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Images with some structure (a bright blob on a dark ground plus noise), not pure noise, so the
// activations look more like clothing than static does.
inline std::vector<std::uint8_t> random_images(int n, std::mt19937_64& rng) {
  std::vector<std::uint8_t> px(size_t(n) * kPixels);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) {
    const double cx = 6 + 16 * u(rng), cy = 6 + 16 * u(rng), r = 4 + 8 * u(rng), level = 120 + 135 * u(rng);
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        const double d = std::hypot(x - cx, y - cy);
        const double v = (d < r ? level : 0.0) + 40 * u(rng);
        px[size_t(i) * kPixels + y * 28 + x] = std::uint8_t(std::min(255.0, v));
      }
  }
  return px;
}

struct RandomNet {
  explicit RandomNet(std::uint64_t seed = 42, int dim = 16)
      : rng(seed), net(nn::EmbeddingHeadConfig{nn::HeadMode::torusN, 0, dim, 0, {}}, rng) {}
  std::mt19937_64 rng;
  nn::FmnistConvNet<float> net;
};

// The int8 network with activation ranges from the first n images.
inline Int8ConvNet calibrated(const ConvNetWeights& w, const std::vector<std::uint8_t>& images, int n) {
  ActivationRanges ranges;
  std::vector<float> h(size_t(w.dim));
  for (int i = 0; i < n; ++i) float_forward(w, kFmnist, &images[size_t(i) * kPixels], h.data(), &ranges);
  return quantize_convnet(w, kFmnist, ranges);
}

// The C++ integer reference's codes (n, D/2) of every image.
inline std::vector<std::uint8_t> reference_codes(const Int8ConvNet& q, const std::vector<std::uint8_t>& images) {
  const size_t n = images.size() / kPixels, K = size_t(q.dim / 2);
  std::vector<std::uint8_t> codes(n * K);
  std::vector<std::int32_t> h(size_t(q.dim));
  for (size_t i = 0; i < n; ++i) int8_forward(q, &images[i * kPixels], h.data(), &codes[i * K]);
  return codes;
}

// A run folder with config.toml for `arch` / `head` and a best.ckpt of that network.
inline std::string make_run(const std::string& name, const std::string& arch, const std::string& head) {
  const std::string dir = fresh_dir(name);
  TrainConfig c;
  c.arch = arch;
  c.head = head;
  c.dim = 16;
  nn::io::write_file_atomic(dir + "/config.toml", to_toml(c));
  const std::vector<int64_t> input = {1, 28, 28};
  std::mt19937_64 rng(1);
  Model m = make_model(c, input, rng);
  save_best(dir + "/best.ckpt", architecture(c, input), {1, 10}, *m.net);
  return dir;
}

}  // namespace torus::train::exportq::testing
