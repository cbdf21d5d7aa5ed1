// The files the sweep reads back from its children and from earlier sweeps (cell.json, torus-eval's
// and torus-quant-eval's JSON, metrics.csv): regular files only, under a size limit checked before
// anything is read, parsed with errors that name the file, the line or field and what was expected.
#pragma once

#include "train/sweep/failure_criteria.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace torus::sweep {

// A file the sweep cannot use; the message names it.
class SweepFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Far above any file the tools write for a grid cell (a quantisation table is a few kB, metrics.csv
// of 100 000 epochs a few MB), far below what would hurt to hold.
inline constexpr std::uint64_t kMaxJsonBytes = 16u << 20;
inline constexpr std::uint64_t kMaxMetricsBytes = 64u << 20;

std::string read_bounded(const std::string& path, std::uint64_t max_bytes, const std::string& what);

// A JSON object.
nlohmann::json read_json_object(const std::string& path, std::uint64_t max_bytes = kMaxJsonBytes);

// metrics.csv as torus-train writes it (train/run_log.hpp's header, with or without the
// circular_variance column): each epoch's loss and SupCon.
std::vector<EpochLoss> read_metrics_losses(const std::string& path);

// Typed fields of a JSON object, naming the file and the field when absent or of another type.
double json_number(const nlohmann::json& j, const std::string& field, const std::string& path);
int64_t json_integer(const nlohmann::json& j, const std::string& field, const std::string& path);
std::string json_string(const nlohmann::json& j, const std::string& field, const std::string& path);

}  // namespace torus::sweep
