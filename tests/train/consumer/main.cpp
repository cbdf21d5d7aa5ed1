// Another tool using torus's training-side libraries through their installed headers and
// pkg-config (torus-train, which brings torus-eval and torus): the model factory, the measures of
// a set of embeddings, and reading a run folder's names. Exits non-zero on any wrong answer.
#include "train/eval/head_modes.hpp"
#include "train/eval/measures.hpp"
#include "train/model_factory.hpp"
#include "train/run_folder.hpp"

#include <cmath>
#include <cstdio>
#include <random>

using namespace torus;

namespace {
// n rows of torusN unit pairs near one angle per class (classes 0 and 1 half a turn apart).
eval::LabelledEmbeddings clusters(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.02);
  eval::LabelledEmbeddings e;
  e.x.resize(n, 4);
  for (int i = 0; i < n; ++i) {
    e.labels.push_back(i % 2);
    for (int k = 0; k < 2; ++k) {
      const double a = 2 * 3.14159265358979 * (0.5 * (i % 2) + noise(rng));
      e.x(i, 2 * k) = float(std::cos(a)), e.x(i, 2 * k + 1) = float(std::sin(a));
    }
  }
  return e;
}

int fail(const char* what) {
  std::fprintf(stderr, "train consumer: %s\n", what);
  return 1;
}
}  // namespace

int main() {
  train::TrainConfig config;
  config.dataset = "features", config.arch = "head", config.head = "torusN", config.dim = 4;
  std::mt19937_64 rng(0);
  const train::Model model = train::make_model(config, {6}, rng);
  if (model.mode != nn::HeadMode::torusN || !model.net) return fail("make_model");

  const eval::EvaluationSet set{clusters(20, 1), clusters(40, 2)};
  eval::MeasureOptions options;
  options.episodes = 10, options.queries_per_class = 2;
  const eval::Measures m = eval::measure_embeddings(set, nn::HeadMode::torusN, options);
  if (m.precision_at_1 != 1.0) return fail("precision@1 of separated classes");
  if (!(m.circular_variance >= 0.0 && m.circular_variance <= 1.0)) return fail("circular variance");
  if (m.few_shot.empty() || !m.few_shot[0].measured || m.few_shot[0].result.mean != 1.0) return fail("1-shot accuracy");
  if (eval::head_mode_names().size() != eval::all_head_modes().size()) return fail("head modes");

  if (train::checkpoint_path("runs/x", "best") != "runs/x/best.ckpt") return fail("checkpoint_path");
  std::printf("train consumer: precision@1 %.3f, circular variance %.3f\n", m.precision_at_1, m.circular_variance);
  return 0;
}
