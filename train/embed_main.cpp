// torus-embed: a run folder's checkpoint + its dataset -> embeddings as .npy (method.md 7).
//   torus-embed --run DIR [--checkpoint best|last|FILE] [--splits train,test] [--out DIR/embeddings]
// Writes per split <split>_embeddings.npy (N, D) in the head's representation (sphere: unit
// vectors; torusN: the unit pairs; torusC: coordinates mod 1), <split>_labels.npy (int64) and, for
// torusN, <split>_angles.npy (N, D/2) in turns [0, 1); and meta.json describing them, which
// torus-eval reads.
// Under mpirun (or srun) with R ranks, rank r embeds its contiguous part of each split and writes
// it as <split>_embeddings.shard-<r>-of-<R>.npy (and labels, angles); meta.json lists the shards
// ("shards": first row, count, files) and every reader of the folder (torus-eval, torus-quant-eval,
// torus-index, torus_io.py) puts them back together.
#include "autodiff/parallel.hpp"
#include "datasets/batch_part.hpp"
#include "nn/dist/communicator.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/embedding.hpp"
#include "train/input_record.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/run_folder.hpp"

#include "train/command_line.hpp"
#include "train/ranks.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
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

// Rows [first, first + count) of a split: embeddings, labels and for torusN angles, under the
// file names `stem`_embeddings`suffix`.npy etc. Returns the names written.
nlohmann::json write_rows(train::Model& model, const train::Split& data, const datasets::AugmentConfig& normalization,
                          int64_t first, int64_t count, const std::string& out_dir, const std::string& stem,
                          const std::string& suffix) {
  const eval::RowMatrix z = count > 0 ? train::embed_rows(model, data, normalization, first, count) : eval::RowMatrix();
  nlohmann::json names = {{"embeddings", stem + "_embeddings" + suffix + ".npy"}, {"labels", stem + "_labels" + suffix + ".npy"}};
  // An empty part (fewer rows than ranks) still has the split's width, so its file reads back.
  const int64_t width = z.cols() > 0 ? z.cols() : train::embed_rows(model, data, normalization, 0, 1).cols();
  datasets::write_npy(out_dir + "/" + names["embeddings"].get<std::string>(), z.data(), count, width);
  const auto& labels = data.labels();
  datasets::write_npy(out_dir + "/" + names["labels"].get<std::string>(),
                      std::vector<int64_t>(labels.begin() + first, labels.begin() + first + count));
  if (model.mode == nn::HeadMode::torusN) {
    const eval::RowMatrix u = count > 0 ? eval::torus_angles(z, model.mode) : eval::RowMatrix();
    names["angles"] = stem + "_angles" + suffix + ".npy";
    datasets::write_npy(out_dir + "/" + names["angles"].get<std::string>(), u.data(), count, width / 2);
  }
  return names;
}

// <split>_sources.json: which input each row came from (a file of an image folder, else the
// record's index in the split).
void write_sources(const train::Split& data, const std::string& source, const std::string& path) {
  nlohmann::json rows = nlohmann::json::array();
  if ((data.is_images || data.is_audio) && !data.files().empty()) {
    for (const std::string& f : data.files()) rows.push_back(f);
  } else {
    for (int64_t i = 0; i < data.size(); ++i) rows.push_back(i);
  }
  const bool files = rows.size() > 0 && rows[0].is_string();
  nn::io::write_file_atomic(path, nlohmann::json{{"rows", files ? "file path relative to the split's folder" : "record index in the split"},
                                                 {"split_source", source}, {"sources", rows}}
                                          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

// A split's files and its entry of meta.json. One process writes <split>_embeddings.npy etc.; rank
// r of R writes its part as the shard ".shard-<r>-of-<R>", and the entry (rank 0's) lists them all.
nlohmann::json write_split(train::Model& model, const train::Split& data, const std::string& split,
                           const std::string& source, const datasets::AugmentConfig& normalization,
                           const std::string& out_dir, const dist::Communicator& world) {
  const int R = world.size();
  const int64_t n = data.size();
  nlohmann::json entry = {{"count", n}, {"embeddings", split + "_embeddings.npy"}, {"labels", split + "_labels.npy"},
                          {"sources", split + "_sources.json"}};
  if (model.mode == nn::HeadMode::torusN) entry["angles"] = split + "_angles.npy";
  if (R == 1) {
    write_rows(model, data, normalization, 0, n, out_dir, split, "");
  } else {
    const datasets::BatchPart mine = datasets::batch_part(n, world.rank(), R);
    const std::string suffix = ".shard-" + std::to_string(world.rank()) + "-of-" + std::to_string(R);
    write_rows(model, data, normalization, mine.first, mine.count, out_dir, split, suffix);
    nlohmann::json shards = nlohmann::json::array();
    for (int r = 0; r < R; ++r) {
      const datasets::BatchPart p = datasets::batch_part(n, r, R);
      const std::string sfx = ".shard-" + std::to_string(r) + "-of-" + std::to_string(R);
      nlohmann::json shard = {{"first", p.first}, {"count", p.count}, {"embeddings", split + "_embeddings" + sfx + ".npy"},
                              {"labels", split + "_labels" + sfx + ".npy"}};
      if (model.mode == nn::HeadMode::torusN) shard["angles"] = split + "_angles" + sfx + ".npy";
      shards.push_back(shard);
    }
    entry["shards"] = shards;
  }
  if (world.rank() == 0) {
    write_sources(data, source, out_dir + "/" + split + "_sources.json");
    std::fprintf(stderr, "torus-embed: %s: %lld rows%s -> %s/%s_embeddings%s.npy\n", split.c_str(), static_cast<long long>(n),
                 R > 1 ? (" in " + std::to_string(R) + " shards").c_str() : "", out_dir.c_str(), split.c_str(),
                 R > 1 ? ".shard-*" : "");
  }
  return entry;
}

// Files an earlier embedding into this folder left for the splits being written now, whole or in
// shards of any count: a sharded split must not sit beside a stale whole file (or the reverse).
void remove_split_files(const std::string& out_dir, const std::vector<std::string>& splits) {
  for (const auto& f : fs::directory_iterator(out_dir)) {
    const std::string name = f.path().filename().string();
    for (const std::string& s : splits)
      for (const char* kind : {"_embeddings", "_labels", "_angles"})
        if (name.starts_with(s + kind) && name.ends_with(".npy") &&
            (name == s + kind + ".npy" || name.starts_with(s + kind + ".shard-")))
          fs::remove(f.path());
  }
}

// meta.json's "files": what each .npy holds and which --head evaluates it, so torus-eval can refuse
// a file given with the wrong head (angles as torusN scored a meaningless 0.10).
// A sharded split lists its shards under both names: the split's and each shard's.
nlohmann::json file_kinds(const std::vector<std::string>& splits, nn::HeadMode mode, const std::string& representation,
                          int shards) {
  nlohmann::json files = nlohmann::json::object();
  for (const std::string& s : splits) {
    std::vector<std::string> suffixes = {""};
    for (int r = 0; r < shards && shards > 1; ++r) suffixes.push_back(".shard-" + std::to_string(r) + "-of-" + std::to_string(shards));
    for (const std::string& x : suffixes) {
      files[s + "_embeddings" + x + ".npy"] = {{"holds", representation}, {"evaluate_as", nn::head_mode_name(mode)}};
      files[s + "_labels" + x + ".npy"] = {{"holds", "class index per row (int64)"}};
      if (mode == nn::HeadMode::torusN)
        files[s + "_angles" + x + ".npy"] = {{"holds", "angles in turns [0, 1), one per circle"}, {"evaluate_as", "torusC"}};
    }
    files[s + "_sources.json"] = {{"holds", "the input each row came from"}};
  }
  return files;
}
}  // namespace

int main(int argc, char** argv) {
  const std::unique_ptr<dist::Session> session = train::start_session("torus-embed", argc, argv);
  if (!session) return 1;
  const dist::Communicator& world = session->world();
  CLI::App app{"Embeds a dataset's splits with a trained run's checkpoint and writes .npy files (in shards under mpirun)."};
  std::string run_dir, checkpoint = "best", out_dir, splits_text;
  int threads = 2;
  app.add_option("--run", run_dir, "run folder written by torus-train")->required()->check(CLI::ExistingDirectory);
  app.add_option("--checkpoint", checkpoint, "best, last, or a checkpoint file")->capture_default_str();
  app.add_option("--splits", splits_text, "comma-separated splits to embed: train, test, fewshot (an audio run's held-out classes); "
                 "default: train, and test and fewshot where the run has them");
  app.add_option("--out", out_dir, "output folder (default <run>/embeddings)");
  app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  if (const int status = train::parse_on_every_rank(app, argc, argv, world); status >= 0) return status;
  if (out_dir.empty()) out_dir = run_dir + "/embeddings";
  const std::string ck_path = train::checkpoint_path(run_dir, checkpoint);
  std::string bad;
  std::vector<std::string> splits = parse_splits(splits_text, bad);
  if (!bad.empty()) {
    std::fprintf(stderr, "torus-embed: --splits: unknown split \"%s\"; valid: train, test, fewshot\n", bad.c_str());
    return 2;
  }
  // Every rank reads the run and the data; a failure on any one of them ends them all.
  const auto embed = [&]() -> int {
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
    if (world.rank() == 0) {
      fs::create_directories(out_dir);
      nn::io::remove_abandoned_temporaries(out_dir);  // .npy halves of an embed that was killed
      remove_split_files(out_dir, splits);
    }
    world.barrier();  // the folder is ready before any rank writes its shard into it
    nlohmann::json meta = meta_of(config, ck_path, trained.progress, class_names);
    meta["files"] = file_kinds(splits, trained.model.mode, meta["representation"].get<std::string>(), world.size());
    for (size_t i = 0; i < splits.size(); ++i) {
      // What the split was read from ("" for a dataset at its standard location).
      const std::string source = config.dataset == "folder" || config.dataset == "features" || config.dataset == "audio-folder"
                                     ? (splits[i] == "test" ? config.test_path : config.path)
                                     : config.path.empty() ? config.dataset + " (standard location)" : config.path;
      meta["splits"][splits[i]] = write_split(trained.model, data[i], splits[i], source, normalization, out_dir, world);
    }
    world.barrier();  // every shard is on disk before meta.json names them
    if (world.rank() != 0) return 0;
    // Paths in meta.json are for reading by people: a byte that is not UTF-8 becomes U+FFFD instead
    // of failing after the .npy files are written.
    nn::io::write_file_atomic(out_dir + "/meta.json", meta.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    std::printf("%s\n", out_dir.c_str());
    return 0;
  };
  if (world.size() > 1) return dist::run_or_abort(world, embed);
  try {
    return embed();
  } catch (const train::ConfigError& e) {
    std::fprintf(stderr, "torus-embed: configuration: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-embed: %s\n", e.what());
    return 1;
  }
}
