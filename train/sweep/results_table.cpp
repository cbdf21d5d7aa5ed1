#include "train/sweep/results_table.hpp"

#include "nn/io/atomic_file.hpp"

#include <algorithm>
#include <cstdio>

namespace torus::sweep {

namespace {
std::optional<double> number_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string csv_number(const std::optional<double>& v) {
  if (!v) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", *v);
  return buf;
}

nlohmann::json json_number(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
}  // namespace

std::vector<ResultRow> result_rows(const Cell& cell, const nlohmann::json& record, const std::vector<std::string>& quant_modes) {
  ResultRow base;
  base.cell = cell.name;
  base.values = cell.values;
  base.dataset = cell.config.dataset, base.head = cell.config.head;
  base.dim = cell.config.dim, base.seed = cell.config.seed, base.koleo = cell.config.koleo;
  base.status = record.value("status", "failed");
  base.reason = record.value("reason", "");
  if (const auto f = record.find("failures"); f != record.end() && f->is_array() && !f->empty() && (*f)[0].is_object())
    base.detail = (*f)[0].value("detail", "");
  base.train_seconds = number_field(record, "train_seconds").value_or(0);
  // Records written before train_seconds: the time of the stage this sweep ran.
  if (const auto st = record.find("stages"); !record.contains("train_seconds") && st != record.end() && st->is_object())
    if (const auto train = st->find("train"); train != st->end() && train->is_object())
      base.train_seconds = number_field(*train, "seconds").value_or(0);
  std::vector<ResultRow> rows;
  if (const auto q = record.find("quant_rows"); q != record.end() && q->is_array()) {
    for (const nlohmann::json& r : *q) {
      if (!r.is_object() || !r.contains("mode") || !r["mode"].is_string()) continue;
      const std::string mode = r["mode"].get<std::string>();
      if (!quant_modes.empty() && std::find(quant_modes.begin(), quant_modes.end(), mode) == quant_modes.end()) continue;
      ResultRow row = base;
      row.mode = mode;
      row.bits = number_field(r, "bits"), row.precision_at_1 = number_field(r, "precision_at_1");
      row.circular_variance = number_field(r, "circular_variance"), row.entropy_nats = number_field(r, "entropy_nats");
      row.distinct = number_field(r, "distinct"), row.queries_per_s = number_field(r, "queries_per_s");
      rows.push_back(row);
    }
  } else if (const auto e = record.find("eval"); e != record.end() && e->is_object()) {
    ResultRow row = base;
    row.mode = "none";
    row.bits = double(32 * cell.config.dim);
    row.precision_at_1 = number_field(*e, "precision_at_1"), row.circular_variance = number_field(*e, "circular_variance");
    row.entropy_nats = number_field(*e, "entropy_nats"), row.distinct = number_field(*e, "distinct_rows");
    rows.push_back(row);
  }
  if (rows.empty()) rows.push_back(base);
  return rows;
}

void write_results(const std::string& out_dir, const GridSpec& grid, const std::vector<ResultRow>& rows) {
  std::string csv = "cell";
  for (const Axis& a : grid.axes) csv += "," + csv_field(a.key);
  csv += ",dataset,head,dim,koleo,seed,status,reason,detail,mode,bits,precision_at_1,circular_variance,entropy_nats,"
         "distinct,queries_per_s,train_seconds\n";
  nlohmann::json out = nlohmann::json::array();
  for (const ResultRow& r : rows) {
    csv += csv_field(r.cell);
    nlohmann::json j = {{"cell", r.cell}};
    for (const SettingValue& v : r.values) {
      csv += ',';
      csv += csv_field(v.text);
      j["values"][v.key] = v.text;
    }
    char koleo[64];
    std::snprintf(koleo, sizeof koleo, "%g", r.koleo);
    csv += "," + csv_field(r.dataset) + "," + csv_field(r.head) + "," + std::to_string(r.dim) + "," + koleo + "," +
           std::to_string(r.seed) + "," + r.status + "," + csv_field(r.reason) + "," + csv_field(r.detail) + "," +
           csv_field(r.mode) + "," + csv_number(r.bits) + "," + csv_number(r.precision_at_1) + "," +
           csv_number(r.circular_variance) + "," + csv_number(r.entropy_nats) + "," + csv_number(r.distinct) + "," +
           csv_number(r.queries_per_s) + "," + csv_number(r.train_seconds) + "\n";
    j.update({{"dataset", r.dataset}, {"head", r.head}, {"dim", r.dim}, {"koleo", r.koleo}, {"seed", r.seed},
              {"status", r.status}, {"reason", r.reason}, {"detail", r.detail},
              {"mode", r.mode.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.mode)}, {"bits", json_number(r.bits)},
              {"precision_at_1", json_number(r.precision_at_1)}, {"circular_variance", json_number(r.circular_variance)},
              {"entropy_nats", json_number(r.entropy_nats)}, {"distinct", json_number(r.distinct)},
              {"queries_per_s", json_number(r.queries_per_s)}, {"train_seconds", r.train_seconds}});
    out.push_back(j);
  }
  nn::io::write_file_atomic(out_dir + "/results.csv", csv);
  nn::io::write_file_atomic(out_dir + "/results.json", nlohmann::json{{"grid", grid.path}, {"rows", out}}.dump(2) + "\n");
}

}  // namespace torus::sweep
