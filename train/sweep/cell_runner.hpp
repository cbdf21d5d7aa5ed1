// One cell of the grid, done exactly as a user would by hand: torus-train into the cell's folder
// (resumed from last.ckpt when an earlier sweep was killed mid-training, started over when it
// left no checkpoint), torus-embed, torus-eval and torus-quant-eval, each child's output in the
// cell's *.log files. Then the verdict (failure_criteria) and cell.json, written atomically last:
// a cell with cell.json is finished, and a cell without one is redone from where it stopped.
#pragma once

#include "train/sweep/grid_cells.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace torus::sweep {

struct Tools {
  std::string train, embed, eval, quant_eval;
  static Tools beside_this_executable();
};

struct RunSettings {
  int threads = 0;  // 0: each cell's train.threads (torus-eval and torus-quant-eval then 2)
  bool quant_eval = true;
};

// A child ended by a signal: the sweep was interrupted, so the cell is left unrecorded to be
// continued by the next sweep rather than recorded as a failure.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// finished: cell.json records a verdict. A cell whose record says a tool failed ("error": missing
// data, a full disk) is no verdict on the settings and runs again, as does one without a record.
enum class CellState { pending, started, errored, finished };
CellState cell_state(const std::string& cell_dir);

// cell_dir/cell.json, checked for the fields the tables read (status ok or failed, reason, failures).
nlohmann::json read_cell_record(const std::string& cell_dir);

// Runs the cell in cell_dir and writes cell_dir/cell.json; returns what it holds. Progress lines
// go to `log`.
nlohmann::json run_cell(const Cell& cell, const std::string& cell_dir, const Tools& tools, const RunSettings& settings,
                        std::FILE* log);

}  // namespace torus::sweep
