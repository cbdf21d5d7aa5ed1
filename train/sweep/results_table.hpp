// The grid's results: one row per cell and quantisation mode (torus-quant-eval's rows; torus-eval's
// float measures as mode "none" when the head has no quantisation table), failed cells kept with
// their reason, written as results.csv and results.json. A cell that did not get as far as a
// measure has one row with its numbers empty (null in JSON).
#pragma once

#include "train/sweep/grid_cells.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace torus::sweep {

struct ResultRow {
  std::string cell;
  std::vector<SettingValue> values;  // the cell's axis values
  std::string dataset, head;
  int64_t dim = 0, seed = 0;
  double koleo = 0;
  std::string status, reason, detail;  // ok / failed, the first failure
  std::string mode;                    // "" when nothing was measured
  std::optional<double> bits, precision_at_1, circular_variance, entropy_nats, distinct, queries_per_s;
  double train_seconds = 0;
  bool ok() const { return status == "ok"; }
};

// The rows of one finished cell from its cell.json record; `quant_modes` (empty: all) filters.
std::vector<ResultRow> result_rows(const Cell& cell, const nlohmann::json& record, const std::vector<std::string>& quant_modes);

// Writes results.csv and results.json in out_dir, atomically; the axis keys are columns of their own.
void write_results(const std::string& out_dir, const GridSpec& grid, const std::vector<ResultRow>& rows);

}  // namespace torus::sweep
