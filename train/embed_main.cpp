// torus-embed: a run folder's checkpoint + its dataset -> embeddings as .npy (method.md 7).
//   torus-embed --run DIR [--checkpoint best|last|FILE] [--splits train,test] [--out DIR/embeddings]
// Writes per split <split>_embeddings.npy (N, D) in the head's representation (sphere: unit
// vectors; torusN: the unit pairs; torusC: coordinates mod 1), <split>_labels.npy (int64) and, for
// torusN, <split>_angles.npy (N, D/2) in turns [0, 1); and meta.json describing them, which
// torus-eval reads.
#include "autodiff/parallel.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/embedding.hpp"
#include "train/input_record.hpp"
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
    if (s != "train" && s != "test" && s != "fewshot") {
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
                           const std::string& source, const datasets::AugmentConfig& normalization,
                           const std::string& out_dir) {
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
  // Which input each row came from: a file of an image folder, else the record's index in the split.
  nlohmann::json rows = nlohmann::json::array();
  if ((data.is_images || data.is_audio) && !data.files().empty()) {
    for (const std::string& f : data.files()) rows.push_back(f);
  } else {
    for (int64_t i = 0; i < data.size(); ++i) rows.push_back(i);
  }
  const bool files = rows.size() > 0 && rows[0].is_string();
  nn::io::write_file_atomic(stem + "_sources.json",
                            nlohmann::json{{"rows", files ? "file path relative to the split's folder" : "record index in the split"},
                                           {"split_source", source}, {"sources", rows}}
                                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  nlohmann::json entry = {{"count", z.rows()}, {"embeddings", split + "_embeddings.npy"}, {"labels", split + "_labels.npy"},
                          {"sources", split + "_sources.json"}};
  if (model.mode == nn::HeadMode::torusN) entry["angles"] = split + "_angles.npy";
  return entry;
}

// meta.json's "files": what each .npy holds and which --head evaluates it, so torus-eval can refuse
// a file given with the wrong head (angles as torusN scored a meaningless 0.10).
nlohmann::json file_kinds(const std::vector<std::string>& splits, nn::HeadMode mode, const std::string& representation) {
  nlohmann::json files = nlohmann::json::object();
  for (const std::string& s : splits) {
    files[s + "_embeddings.npy"] = {{"holds", representation}, {"evaluate_as", nn::head_mode_name(mode)}};
    files[s + "_labels.npy"] = {{"holds", "class index per row (int64)"}};
    files[s + "_sources.json"] = {{"holds", "the input each row came from"}};
    if (mode == nn::HeadMode::torusN)
      files[s + "_angles.npy"] = {{"holds", "angles in turns [0, 1), one per circle"}, {"evaluate_as", "torusC"}};
  }
  return files;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Embeds a dataset's splits with a trained run's checkpoint and writes .npy files."};
  std::string run_dir, checkpoint = "best", out_dir, splits_text;
  int threads = 2;
  app.add_option("--run", run_dir, "run folder written by torus-train")->required()->check(CLI::ExistingDirectory);
  app.add_option("--checkpoint", checkpoint, "best, last, or a checkpoint file")->capture_default_str();
  app.add_option("--splits", splits_text, "comma-separated splits to embed: train, test, fewshot (an audio run's held-out classes); "
                 "default: train, and test and fewshot where the run has them");
  app.add_option("--out", out_dir, "output folder (default <run>/embeddings)");
  app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  if (const int status = torus::train::parse_command_line(app, argc, argv); status >= 0) return status;
  if (out_dir.empty()) out_dir = run_dir + "/embeddings";
  const std::string ck_path = train::checkpoint_path(run_dir, checkpoint);
  std::string bad;
  std::vector<std::string> splits = parse_splits(splits_text, bad);
  if (!bad.empty()) {
    std::fprintf(stderr, "torus-embed: --splits: unknown split \"%s\"; valid: train, test, fewshot\n", bad.c_str());
    return 2;
  }
  try {
    set_num_threads(threads);
    const train::TrainConfig config = train::read_run_config(run_dir);
    if (splits_text.empty()) {
      splits = {"train"};
      if (train::has_test_split(config)) splits.push_back("test");
      if (config.fewshot_classes > 0) splits.push_back("fewshot");
    }
    std::vector<std::string> class_names;
    std::vector<train::Split> data;
    for (const auto& s : splits) data.push_back(train::load_split(config, s, &class_names));
    // The input shape (and so the architecture) comes from the data, as in training.
    const train::Split& first = data.front();
    const std::vector<int64_t> input = first.input_shape();
    // The input the run recorded (input.json) wins over re-deriving it from the dataset's name;
    // run folders written before input.json existed fall back to the latter.
    bool recorded = false;
    const train::InputRecord record = train::read_input_record(run_dir, recorded);
    if (recorded && record.shape != input)
      throw datasets::DataError(run_dir + "/input.json: the run was trained on inputs of shape " +
                                nlohmann::json(record.shape).dump() + ", the data gives " + nlohmann::json(input).dump());
    train::TrainedModel trained = train::load_trained_model(config, input, ck_path);
    datasets::AugmentConfig normalization = train::dataset_normalization(config);
    if (recorded && (record.images || record.log_mel)) normalization.mean = record.mean, normalization.std = record.std;
    if (first.is_audio && !(recorded && record.log_mel))
      throw datasets::DataError(run_dir + "/input.json: an audio run needs its recorded per-band normalisation (kind \"log-mel\")");
    fs::create_directories(out_dir);
    nn::io::remove_abandoned_temporaries(out_dir);  // .npy halves of an embed that was killed
    nlohmann::json meta = meta_of(config, ck_path, trained.progress, class_names);
    meta["files"] = file_kinds(splits, trained.model.mode, meta["representation"].get<std::string>());
    for (size_t i = 0; i < splits.size(); ++i) {
      // What the split was read from ("" for a dataset at its standard location).
      const std::string source = config.dataset == "folder" || config.dataset == "features" || config.dataset == "audio-folder"
                                     ? (splits[i] == "test" ? config.test_path : config.path)
                                     : config.path.empty() ? config.dataset + " (standard location)" : config.path;
      meta["splits"][splits[i]] = write_split(trained.model, data[i], splits[i], source, normalization, out_dir);
    }
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
