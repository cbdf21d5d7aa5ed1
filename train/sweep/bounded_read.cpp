#include "train/sweep/bounded_read.hpp"

#include "nn/io/atomic_file.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace torus::sweep {

std::string read_bounded(const std::string& path, std::uint64_t max_bytes, const std::string& what) {
  try {
    const nn::io::InputFile file(path, what);
    if (file.size() > max_bytes)
      throw SweepFileError(path + ": " + std::to_string(file.size()) + " bytes, more than the " + std::to_string(max_bytes) +
                           " a " + what + " may hold");
    std::string bytes(file.size(), '\0');
    if (!bytes.empty()) file.read_at(0, bytes.size(), bytes.data());
    return bytes;
  } catch (const SweepFileError&) {
    throw;
  } catch (const std::exception& e) {
    throw SweepFileError(e.what());
  }
}

nlohmann::json read_json_object(const std::string& path, std::uint64_t max_bytes) {
  const std::string text = read_bounded(path, max_bytes, "JSON file");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw SweepFileError(path + ": not valid JSON");
  if (!j.is_object()) throw SweepFileError(path + ": expected a JSON object, got " + std::string(j.type_name()));
  return j;
}

std::vector<EpochLoss> read_metrics_losses(const std::string& path) {
  std::istringstream in(read_bounded(path, kMaxMetricsBytes, "metrics.csv"));
  std::string line;
  if (!std::getline(in, line) || line.rfind("epoch,loss,supcon,", 0) != 0)
    throw SweepFileError(path + ":1: expected torus-train's header starting \"epoch,loss,supcon,\"");
  std::vector<EpochLoss> rows;
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    // epoch,loss,supcon,koleo,precision_at_1,lr,images_per_s,seconds[,circular_variance]
    std::string epoch, loss, supcon, skipped, seconds;
    std::getline(fields, epoch, ','), std::getline(fields, loss, ','), std::getline(fields, supcon, ',');
    for (int i = 0; i < 4; ++i) std::getline(fields, skipped, ',');
    std::getline(fields, seconds, ',');
    char* end = nullptr;
    EpochLoss row;
    const auto parse = [&](const std::string& text, const char* name) {
      // strtod reads "nan" and "inf", which a diverged run writes and the verdict must see.
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size())
        throw SweepFileError(path + ":" + std::to_string(line_no) + ": " + name + ": expected a number, got \"" + text + "\"");
      return v;
    };
    const double e = parse(epoch, "epoch");
    if (!(e >= 1) || e != std::floor(e))
      throw SweepFileError(path + ":" + std::to_string(line_no) + ": epoch: expected a whole number >= 1, got \"" + epoch + "\"");
    row.epoch = int64_t(e);
    row.loss = parse(loss, "loss");
    row.supcon = parse(supcon, "supcon");
    row.seconds = parse(seconds, "seconds");
    rows.push_back(row);
  }
  return rows;
}

double json_number(const nlohmann::json& j, const std::string& field, const std::string& path) {
  const auto it = j.find(field);
  if (it == j.end() || !it->is_number()) throw SweepFileError(path + ": " + field + ": expected a number");
  return it->get<double>();
}

int64_t json_integer(const nlohmann::json& j, const std::string& field, const std::string& path) {
  const auto it = j.find(field);
  if (it == j.end() || !it->is_number_integer()) throw SweepFileError(path + ": " + field + ": expected an integer");
  return it->get<int64_t>();
}

std::string json_string(const nlohmann::json& j, const std::string& field, const std::string& path) {
  const auto it = j.find(field);
  if (it == j.end() || !it->is_string()) throw SweepFileError(path + ": " + field + ": expected a string");
  return it->get<std::string>();
}

}  // namespace torus::sweep
