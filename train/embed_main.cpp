// torus-embed: a run folder's checkpoint + its dataset -> embeddings as .npy (method.md 7).
//   torus-embed --run DIR [--checkpoint best|last|FILE] [--splits train,test] [--out DIR/embeddings]
// Writes per split <split>_embeddings.npy (N, D) in the head's representation (sphere: unit
// vectors; torusN: the unit pairs; torusC: coordinates mod 1), <split>_labels.npy (int64) and, for
// torusN, <split>_angles.npy (N, D/2) in turns [0, 1); and meta.json describing them, which
// torus-eval reads.
#include "autodiff/parallel.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/embedding.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/run_folder.hpp"

#include "train/command_line.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>

using namespace torus;
namespace fs = std::filesystem;

namespace {
// "train,test" -> {"train", "test"}; an unknown split is named in `bad` and the list is empty.
std::vector<std::string> parse_splits(const std::string& text, std::string& bad) {
  std::vector<std::string> splits;
  std::stringstream ss(text);
  std::string s;
  while (std::getline(ss, s, ',')) {
    if (s != "train" && s != "test") {
      bad = s;
      return {};
    }
    splits.push_back(s);
  }
  return splits;
}

nlohmann::json meta_of(const train::TrainConfig& config, const std::string& ck_path, const train::Progress& p,
                       const std::vector<std::string>& class_names) {
  return {{"head", config.head}, {"dim", config.dim}, {"dataset", config.dataset},
          {"checkpoint", ck_path}, {"epoch", p.epoch}, {"step", p.step}, {"class_names", class_names},
          {"representation", config.head == "torusN"   ? "unit pairs (z_2k, z_2k+1); angles in turns"
                             : config.head == "torusC" ? "coordinates mod 1 (turns)"
                             : config.head == "sphere" ? "unit vectors"
                                                       : "head output"}};
}

// <split>_embeddings.npy, <split>_labels.npy and for torusN <split>_angles.npy; returns the split's
// entry of meta.json.
nlohmann::json write_split(train::Model& model, const train::Split& data, const std::string& split,
                           const datasets::AugmentConfig& normalization, const std::string& out_dir) {
  const eval::RowMatrix z = train::embed_split(model, data, normalization);
  const std::string stem = out_dir + "/" + split;
  datasets::write_npy(stem + "_embeddings.npy", z.data(), z.rows(), z.cols());
  const auto& labels = data.labels();
  datasets::write_npy(stem + "_labels.npy", std::vector<int64_t>(labels.begin(), labels.end()));
  if (model.mode == nn::HeadMode::torusN) {
    const eval::RowMatrix u = eval::torus_angles(z, model.mode);
    datasets::write_npy(stem + "_angles.npy", u.data(), u.rows(), u.cols());
  }
  std::fprintf(stderr, "torus-embed: %s: %lld x %lld -> %s_embeddings.npy\n", split.c_str(), static_cast<long long>(z.rows()),
               static_cast<long long>(z.cols()), stem.c_str());
  return {{"count", z.rows()}, {"embeddings", split + "_embeddings.npy"}, {"labels", split + "_labels.npy"}};
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Embeds a dataset's splits with a trained run's checkpoint and writes .npy files."};
  std::string run_dir, checkpoint = "best", out_dir, splits_text = "train,test";
  int threads = 2;
  app.add_option("--run", run_dir, "run folder written by torus-train")->required()->check(CLI::ExistingDirectory);
  app.add_option("--checkpoint", checkpoint, "best, last, or a checkpoint file")->capture_default_str();
  app.add_option("--splits", splits_text, "comma-separated splits to embed: train, test")->capture_default_str();
  app.add_option("--out", out_dir, "output folder (default <run>/embeddings)");
  app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  if (const int status = torus::train::parse_command_line(app, argc, argv); status >= 0) return status;
  if (out_dir.empty()) out_dir = run_dir + "/embeddings";
  const std::string ck_path = train::checkpoint_path(run_dir, checkpoint);
  std::string bad;
  const std::vector<std::string> splits = parse_splits(splits_text, bad);
  if (!bad.empty()) {
    std::fprintf(stderr, "torus-embed: --splits: unknown split \"%s\"; valid: train, test\n", bad.c_str());
    return 2;
  }
  try {
    set_num_threads(threads);
    const train::TrainConfig config = train::read_run_config(run_dir);
    std::vector<std::string> class_names;
    std::vector<train::Split> data;
    for (const auto& s : splits) data.push_back(train::load_split(config, s, &class_names));
    // The input shape (and so the architecture) comes from the data, as in training.
    const train::Split& first = data.front();
    const std::vector<int64_t> input = first.is_images ? std::vector<int64_t>{first.images.channels, first.images.height, first.images.width}
                                                       : std::vector<int64_t>{first.features.dim};
    train::TrainedModel trained = train::load_trained_model(config, input, ck_path);
    const datasets::AugmentConfig normalization = train::dataset_normalization(config);
    fs::create_directories(out_dir);
    nn::io::remove_abandoned_temporaries(out_dir);  // .npy halves of an embed that was killed
    nlohmann::json meta = meta_of(config, ck_path, trained.progress, class_names);
    for (size_t i = 0; i < splits.size(); ++i)
      meta["splits"][splits[i]] = write_split(trained.model, data[i], splits[i], normalization, out_dir);
    // Paths in meta.json are for reading by people: a byte that is not UTF-8 becomes U+FFFD instead
    // of failing after the .npy files are written.
    nn::io::write_file_atomic(out_dir + "/meta.json", meta.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    std::printf("%s\n", out_dir.c_str());
    return 0;
  } catch (const train::ConfigError& e) {
    std::fprintf(stderr, "torus-embed: configuration: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-embed: %s\n", e.what());
    return 1;
  }
}
