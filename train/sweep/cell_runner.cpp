#include "train/sweep/cell_runner.hpp"

#include "nn/head_mode.hpp"
#include "nn/io/atomic_file.hpp"
#include "nn/io/checkpoint.hpp"
#include "nn/matryoshka.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/eval/labelled_embeddings.hpp"
#include "train/sweep/bounded_read.hpp"
#include "train/sweep/child_process.hpp"
#include "train/sweep/failure_criteria.hpp"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <map>
#include <set>

namespace torus::sweep {

namespace fs = std::filesystem;

Tools Tools::beside_this_executable() {
  return {find_sibling_tool("torus-train"), find_sibling_tool("torus-embed"), find_sibling_tool("torus-eval"),
          find_sibling_tool("torus-quant-eval")};
}

nlohmann::json read_cell_record(const std::string& cell_dir) {
  const std::string path = cell_dir + "/cell.json";
  const nlohmann::json r = read_json_object(path);
  const std::string status = json_string(r, "status", path);
  if (status != "ok" && status != "failed") throw SweepFileError(path + ": status: expected \"ok\" or \"failed\", got \"" + status + "\"");
  json_string(r, "reason", path);
  if (!r.contains("failures") || !r["failures"].is_array()) throw SweepFileError(path + ": failures: expected an array");
  for (const nlohmann::json& f : r["failures"])
    if (!f.is_object() || !f.contains("detail") || !f["detail"].is_string() || !f.contains("reason") || !f["reason"].is_string())
      throw SweepFileError(path + ": failures: expected objects with a reason and a detail (strings)");
  return r;
}

CellState cell_state(const std::string& cell_dir) {
  if (fs::exists(cell_dir + "/cell.json"))
    return read_cell_record(cell_dir)["reason"] == "error" ? CellState::errored : CellState::finished;
  if (fs::exists(cell_dir + "/metrics.csv") || fs::exists(cell_dir + "/last.ckpt")) return CellState::started;
  return CellState::pending;
}

namespace {
struct Stage {
  std::string name;
  ChildResult result;
  std::string message;  // the last line of its stderr when it failed
};

Stage run_stage(const std::string& name, std::vector<std::string> argv, const std::string& dir, std::FILE* log) {
  Stage s{name, run_child(argv, dir + "/" + name + ".out", dir + "/" + name + ".log"), ""};
  if (!s.result.exited())
    throw Interrupted(fs::path(argv[0]).filename().string() + " in " + dir + " was ended by signal " +
                      std::to_string(s.result.signal) + "; the cell is left unrecorded and the next sweep continues it");
  if (s.result.exit_status != 0) s.message = last_line_of(dir + "/" + name + ".log");
  std::fprintf(log, "  %-10s exit %d, %.1f s\n", name.c_str(), s.result.exit_status, s.result.seconds);
  std::fflush(log);
  return s;
}

// The epoch last.ckpt holds, or -1 without a readable one (then the run starts over).
int64_t checkpoint_epoch(const std::string& dir) {
  if (!fs::exists(dir + "/last.ckpt")) return -1;
  try {
    return nn::io::read_checkpoint(dir + "/last.ckpt").epoch;
  } catch (const std::exception&) {
    return -1;
  }
}

double level_weight(const train::TrainConfig& c) {
  if (c.matryoshka.empty()) return 1;
  double sum = 0;
  for (const nn::CircleLevel& l :
       nn::parse_circle_levels(c.matryoshka, c.matryoshka_weights, nn::head_circles(nn::parse_head_mode(c.head), c.dim)))
    sum += l.weight;
  return sum;
}

nlohmann::json failure_json(const std::vector<Failure>& failures) {
  nlohmann::json out = nlohmann::json::array();
  for (const Failure& f : failures) out.push_back({{"reason", f.reason}, {"detail", f.detail}});
  return out;
}
}  // namespace

nlohmann::json run_cell(const Cell& cell, const std::string& dir, const Tools& tools, const RunSettings& settings,
                        std::FILE* log) {
  fs::create_directories(dir);
  nn::io::remove_abandoned_temporaries(dir);
  const train::TrainConfig& c = cell.config;
  nn::io::write_file_atomic(dir + "/sweep_cell.toml", train::to_toml(c), nn::io::Durability::unsynced);
  const std::string threads = std::to_string(settings.threads > 0 ? settings.threads : 2);

  nlohmann::json record = {{"name", cell.name}};
  for (const SettingValue& v : cell.values) record["values"][v.key] = v.text;
  record["config"] = {{"dataset", c.dataset}, {"head", c.head}, {"dim", c.dim}, {"koleo", c.koleo}, {"seed", c.seed},
                      {"epochs", c.epochs}, {"arch", c.arch}};
  std::vector<Stage> stages;
  // A failed torus-train comes first; a failed evaluation after the verdict on what training
  // left, since that is usually its cause (torus-quant-eval refuses a collapsed range).
  std::vector<Failure> failures, evaluation_errors;
  CellEvidence evidence;

  // torus-train: resumed, started over, or already done by a sweep killed after it.
  const int64_t done = checkpoint_epoch(dir);
  if (done < c.epochs) {
    std::vector<std::string> argv = {tools.train};
    if (done >= 1) argv.insert(argv.end(), {"--resume", dir});
    else argv.insert(argv.end(), {"--config", dir + "/sweep_cell.toml", "--out", dir, "--overwrite"});
    if (settings.threads > 0) argv.insert(argv.end(), {"--train.threads", threads});
    record["train_resumed_from_epoch"] = std::max<int64_t>(done, 0);
    stages.push_back(run_stage("train", argv, dir, log));
    evidence.train_exit = stages.back().result.exit_status;
    evidence.train_message = stages.back().message;
  }
  if (fs::exists(dir + "/metrics.csv")) evidence.epochs = read_metrics_losses(dir + "/metrics.csv");
  const bool trained = evidence.train_exit == 0;
  if (evidence.train_exit != 0 && evidence.train_exit != 3)
    failures.push_back({"error", "torus-train exit " + std::to_string(evidence.train_exit) + ": " + evidence.train_message});

  const std::string embeddings = dir + "/embeddings";
  bool embedded = false;
  if (trained) {
    std::vector<std::string> argv = {tools.embed, "--run", dir, "--threads", threads};
    stages.push_back(run_stage("embed", argv, dir, log));
    embedded = stages.back().result.exit_status == 0;
    if (!embedded) evaluation_errors.push_back({"error", "torus-embed exit " + std::to_string(stages.back().result.exit_status) + ": " + stages.back().message});
  }
  if (embedded) {
    stages.push_back(run_stage("eval", {tools.eval, "--embeddings", embeddings, "--json", dir + "/eval.json", "--threads", threads}, dir, log));
    if (stages.back().result.exit_status == 0) {
      const nlohmann::json e = read_json_object(dir + "/eval.json");
      record["eval"] = e;
      if (e.contains("precision_at_1") && e["precision_at_1"].is_number()) evidence.precision_at_1 = e["precision_at_1"].get<double>();
      evidence.circular_variance = json_number(e, "circular_variance", dir + "/eval.json");
      evidence.queries = json_integer(e, "queries", dir + "/eval.json");
      // Distinct float rows stand for the codes until torus-quant-eval's 8-bit row replaces them:
      // fewer than the classes is a collapse in any representation.
      evidence.code_distinct = json_integer(e, "distinct_rows", dir + "/eval.json");
    } else {
      evaluation_errors.push_back({"error", "torus-eval exit " + std::to_string(stages.back().result.exit_status) + ": " + stages.back().message});
    }
    const bool has_table = eval::has_quantisation_table(nn::parse_head_mode(c.head));
    if (settings.quant_eval && has_table) {
      stages.push_back(run_stage("quant_eval", {tools.quant_eval, "--embeddings", embeddings, "--json", dir + "/quant_eval.json", "--threads", threads}, dir, log));
      if (stages.back().result.exit_status == 0) {
        const std::string path = dir + "/quant_eval.json";
        const nlohmann::json q = read_json_object(path);
        if (!q.contains("rows") || !q["rows"].is_array()) throw SweepFileError(path + ": rows: expected an array");
        record["quant_rows"] = q["rows"];
        for (const nlohmann::json& row : q["rows"])
          if (row.is_object() && json_string(row, "mode", path) == "8bit") {
            evidence.code_distinct = json_integer(row, "distinct", path);
            evidence.code_entropy_nats = json_number(row, "entropy_nats", path);
          }
      } else {
        evaluation_errors.push_back({"error", "torus-quant-eval exit " + std::to_string(stages.back().result.exit_status) + ": " + stages.back().message});
      }
    }
    // Chance and the class count from the labels the measures used: queries (test) against
    // references (train).
    const eval::EvaluationFiles files = eval::embedding_folder_files(embeddings);
    const eval::LabelledEmbeddings refs = eval::load_labelled_embeddings(files.references, files.reference_labels);
    std::map<int, int64_t> query_counts;
    int64_t queries = 0;
    if (!files.queries.empty())
      for (const int label : eval::load_labelled_embeddings(files.queries, files.query_labels).labels) ++query_counts[label], ++queries;
    std::set<int> classes(refs.labels.begin(), refs.labels.end());
    for (const auto& [label, count] : query_counts) classes.insert(label);
    evidence.classes = int64_t(classes.size());
    int64_t commonest = 0;
    for (const auto& [label, count] : query_counts) commonest = std::max(commonest, count);
    evidence.chance_precision = queries > 0 ? double(commonest) / double(queries) : 0;
    // Batches hold at most the training rows there are.
    const int64_t batch = std::min<int64_t>(c.batch, std::max<int64_t>(refs.labels.size(), 2));
    evidence.bounds = supcon_bounds(c.temperature, c.base_temperature, c.views, batch, evidence.classes, level_weight(c));
    record["classes"] = evidence.classes;
    record["chance_precision_at_1"] = evidence.chance_precision;
    record["supcon_chance"] = evidence.bounds.chance;
    record["supcon_separated"] = evidence.bounds.separated;
  }
  for (const Failure& f : classify_cell(evidence)) failures.push_back(f);
  failures.insert(failures.end(), evaluation_errors.begin(), evaluation_errors.end());

  double seconds = 0;
  for (const Stage& s : stages) {
    record["stages"][s.name] = {{"exit", s.result.exit_status}, {"seconds", s.result.seconds}};
    if (!s.message.empty()) record["stages"][s.name]["message"] = s.message;
    seconds += s.result.seconds;
  }
  record["seconds"] = seconds;
  record["epochs_done"] = evidence.epochs.empty() ? 0 : evidence.epochs.back().epoch;
  // From metrics.csv, so a run trained by an earlier, killed sweep still counts its time.
  record["train_seconds"] = evidence.epochs.empty() ? 0.0 : evidence.epochs.back().seconds;
  if (!evidence.epochs.empty()) {
    record["first_supcon"] = evidence.epochs.front().supcon;
    record["last_supcon"] = evidence.epochs.back().supcon;
  }
  record["status"] = failures.empty() ? "ok" : "failed";
  record["reason"] = failures.empty() ? "" : failures.front().reason;
  record["failures"] = failure_json(failures);
  // NaN is not JSON: a diverged run's losses are stored as null.
  for (const char* key : {"first_supcon", "last_supcon"})
    if (record.contains(key) && !std::isfinite(record[key].get<double>())) record[key] = nullptr;
  nn::io::write_file_atomic(dir + "/cell.json", record.dump(2) + "\n");
  return record;
}

}  // namespace torus::sweep
