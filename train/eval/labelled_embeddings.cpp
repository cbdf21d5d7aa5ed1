#include "train/eval/labelled_embeddings.hpp"

#include "datasets/image_file.hpp"
#include "datasets/npy.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace torus::eval {

namespace {
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The shard files (and their row counts) behind `path` when it names a split that torus-embed
// wrote in shards: meta.json beside it has a split whose `key` ("embeddings", "labels", "angles")
// is path's file name and which lists "shards". Empty otherwise.
std::vector<std::pair<std::string, int64_t>> shard_files(const std::string& path) {
  const std::filesystem::path file(path);
  const std::string meta_path = (file.parent_path() / "meta.json").string();
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || !std::filesystem::exists(meta_path, ec)) return {};
  std::ifstream in(meta_path);
  const nlohmann::json meta = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object() || !meta.contains("splits") || !meta["splits"].is_object()) return {};
  const std::string name = file.filename().string();
  for (const auto& [split, entry] : meta["splits"].items()) {
    if (!entry.is_object() || !entry.contains("shards")) continue;
    for (const char* key : {"embeddings", "labels", "angles"}) {
      if (entry.value(key, "") != name) continue;
      std::vector<std::pair<std::string, int64_t>> out;
      int64_t next = 0;
      try {
        for (const nlohmann::json& shard : entry.at("shards")) {
          // Shards must tile the split in order: a gap or an overlap would shift every later row.
          if (shard.at("first").get<int64_t>() != next)
            throw datasets::DataError(meta_path + ": split \"" + split + "\": a shard starts at row " +
                                      std::to_string(shard.at("first").get<int64_t>()) + ", expected " + std::to_string(next));
          out.emplace_back((file.parent_path() / shard.at(key).get<std::string>()).string(), shard.at("count").get<int64_t>());
          next += out.back().second;
        }
        if (next != entry.at("count").get<int64_t>())
          throw datasets::DataError(meta_path + ": split \"" + split + "\": the shards hold " + std::to_string(next) +
                                    " rows, the split " + std::to_string(entry.at("count").get<int64_t>()));
      } catch (const nlohmann::json::exception& e) {
        throw datasets::DataError(meta_path + ": split \"" + split + "\": shards: " + e.what());
      }
      return out;
    }
  }
  return {};
}

std::vector<int64_t> read_label_file(const std::string& path) {
  if (!ends_with(path, ".csv")) return datasets::read_npy_integers(path);
  const std::vector<int> v = datasets::read_label_csv(path);
  return std::vector<int64_t>(v.begin(), v.end());
}

std::vector<int64_t> read_labels(const std::string& path) {
  const auto shards = shard_files(path);
  if (shards.empty()) return read_label_file(path);
  std::vector<int64_t> all;
  for (const auto& [file, count] : shards) {
    const std::vector<int64_t> part = read_label_file(file);
    if (int64_t(part.size()) != count)
      throw datasets::DataError(file + ": " + std::to_string(part.size()) + " labels, meta.json's shard " + std::to_string(count));
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}
}  // namespace

datasets::FloatMatrix read_embedding_matrix(const std::string& path) {
  const auto shards = shard_files(path);
  if (shards.empty()) return datasets::read_npy_matrix(path);
  datasets::FloatMatrix all;
  for (const auto& [file, count] : shards) {
    datasets::FloatMatrix part = datasets::read_npy_matrix(file);
    if (part.rows != count)
      throw datasets::DataError(file + ": " + std::to_string(part.rows) + " rows, meta.json's shard " + std::to_string(count));
    if (all.rows > 0 && part.rows > 0 && part.cols != all.cols)
      throw datasets::DataError(file + ": " + std::to_string(part.cols) + " columns, the shards before it " + std::to_string(all.cols));
    if (part.rows > 0 || all.rows == 0) all.cols = part.cols;
    all.rows += part.rows;
    all.values.insert(all.values.end(), part.values.begin(), part.values.end());
  }
  return all;
}

LabelledEmbeddings load_labelled_embeddings(const std::string& embeddings, const std::string& labels) {
  const datasets::FloatMatrix m = read_embedding_matrix(embeddings);
  const std::vector<int64_t> l = read_labels(labels);
  if (int64_t(l.size()) != m.rows)
    throw datasets::DataError(labels + ": " + std::to_string(l.size()) + " labels for the " + std::to_string(m.rows) +
                              " rows of " + embeddings);
  LabelledEmbeddings out;
  out.x = Eigen::Map<const RowMatrix>(m.values.data(), m.rows, m.cols);
  // A NaN row would otherwise match nothing and quietly lower every measure.
  for (Eigen::Index r = 0; r < out.x.rows(); ++r)
    if (!out.x.row(r).allFinite())
      throw datasets::DataError(embeddings + ": row " + std::to_string(r) + " holds a NaN or infinite value");
  out.labels.reserve(l.size());
  for (int64_t v : l) {
    if (v < 0 || v > (1 << 30)) throw datasets::DataError(labels + ": label " + std::to_string(v) + " is not a class index");
    out.labels.push_back(int(v));
  }
  return out;
}

namespace {
nlohmann::json read_meta(const std::string& dir) {
  const std::string path = dir + "/meta.json";
  std::ifstream in(path);
  if (!in) throw datasets::DataError(path + ": cannot read (not a torus-embed folder?)");
  try {
    const nlohmann::json meta = nlohmann::json::parse(in);
    if (!meta.at("splits").contains("train"))
      throw datasets::DataError(path + ": no \"train\" split (embed with --splits train,test)");
    if (!meta.at("splits").contains("test") && !meta.at("splits").contains("fewshot"))
      throw datasets::DataError(path + ": no \"test\" split (and no \"fewshot\" split) (embed with --splits train,test)");
    meta.at("head").get<std::string>();
    return meta;
  } catch (const nlohmann::json::exception& e) {
    throw datasets::DataError(path + ": " + e.what());
  }
}
}  // namespace

EvaluationFiles embedding_folder_files(const std::string& dir) {
  const nlohmann::json meta = read_meta(dir);
  EvaluationFiles f;
  f.references = dir + "/train_embeddings.npy", f.reference_labels = dir + "/train_labels.npy";
  if (meta["splits"].contains("test")) f.queries = dir + "/test_embeddings.npy", f.query_labels = dir + "/test_labels.npy";
  if (meta["splits"].contains("fewshot"))
    f.few_shot = dir + "/fewshot_embeddings.npy", f.few_shot_labels = dir + "/fewshot_labels.npy";
  return f;
}

std::string embedding_folder_head(const std::string& dir) { return read_meta(dir).at("head").get<std::string>(); }

void check_representation(const std::string& path, const RowMatrix& x, nn::HeadMode mode) {
  const std::string head = nn::head_mode_name(mode);
  // What torus-embed's meta.json says the file holds.
  const std::filesystem::path file(path);
  const std::string meta_path = (file.parent_path() / "meta.json").string();
  std::error_code ec;
  if (std::filesystem::exists(meta_path, ec)) {
    std::ifstream in(meta_path);
    const nlohmann::json meta = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    const std::string name = file.filename().string();
    if (meta.is_object() && meta.contains("files") && meta["files"].is_object() && meta["files"].contains(name)) {
      const nlohmann::json& entry = meta["files"][name];
      const std::string as = entry.value("evaluate_as", "");
      if (!as.empty() && as != head)
        throw datasets::DataError(path + ": " + meta_path + " says it holds " + entry.value("holds", "another representation") +
                                  ", evaluated as --head " + as + ", not " + head);
    }
  }
  // What the numbers say, whatever the folder: unit pairs for torusN, unit rows for the sphere.
  // (Angles in turns evaluated as torusN reported a meaningless precision@1 of 0.10.)
  constexpr double kTolerance = 1e-3;
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    if (mode == nn::HeadMode::torusN) {
      for (Eigen::Index k = 0; k + 1 < x.cols(); k += 2) {
        const double norm = std::hypot(double(x(r, k)), double(x(r, k + 1)));
        if (std::fabs(norm - 1) > kTolerance)
          throw datasets::DataError(path + ": row " + std::to_string(r) + ", pair " + std::to_string(k / 2) + " has norm " +
                                    std::to_string(norm) + ": not torusN unit pairs (angles in turns are evaluated with "
                                    "--head torusC)");
      }
    } else if (mode == nn::HeadMode::sphere) {
      const double norm = double(x.row(r).template cast<double>().norm());
      if (std::fabs(norm - 1) > kTolerance)
        throw datasets::DataError(path + ": row " + std::to_string(r) + " has norm " + std::to_string(norm) +
                                  ": not unit vectors, as --head sphere expects");
    }
  }
}

EvaluationSet load_evaluation_set(const EvaluationFiles& f, nn::HeadMode mode) {
  EvaluationSet s;
  // Queries first, so a mistaken file is named as the user gave it first.
  const auto load = [&](const std::string& file, const std::string& labels, LabelledEmbeddings& out) {
    if (file.empty()) return;
    out = load_labelled_embeddings(file, labels);
    check_representation(file, out.x, mode);
  };
  load(f.queries, f.query_labels, s.queries);
  load(f.references, f.reference_labels, s.references);
  load(f.few_shot, f.few_shot_labels, s.few_shot);
  const auto same_width = [&](const std::string& file, const LabelledEmbeddings& e) {
    if (!file.empty() && e.x.cols() != s.references.x.cols())
      throw datasets::DataError(file + " has " + std::to_string(e.x.cols()) + " columns, " + f.references + " " +
                                std::to_string(s.references.x.cols()));
  };
  same_width(f.queries, s.queries);
  same_width(f.few_shot, s.few_shot);
  if (mode == nn::HeadMode::torusN && s.references.x.cols() % 2)
    throw datasets::DataError(f.references + ": torusN embeddings need an even number of columns (pairs), got " +
                              std::to_string(s.references.x.cols()));
  if (!s.has_queries() && !s.has_few_shot())
    throw datasets::DataError(f.references + ": nothing to evaluate against it (no queries and no few-shot set)");
  return s;
}

}  // namespace torus::eval
