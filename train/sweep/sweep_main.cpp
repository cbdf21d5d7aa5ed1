// torus-sweep: the experiment grid of method.md 10 as one command. Every cell is an ordinary run
// folder made by the ordinary binaries, then judged (failed to train, and why) and tabulated.
//   torus-sweep --grid FILE.toml --out DIR [--dry-run] [--threads T]
// DIR gets cells/<name>/ (the run folder, its embeddings, eval.json, quant_eval.json, the children's
// logs and cell.json), results.csv, results.json, figures/ and report.md. A finished cell (one
// with cell.json) is skipped, so a killed sweep run again continues where it stopped.
// Exit status: 0 every cell finished (trained or failed: both are results), 1 a file, a child or
// the machine failed, 2 a bad grid file or command line.
#include "nn/io/atomic_file.hpp"
#include "train/run_folder.hpp"
#include "train/sweep/bounded_read.hpp"
#include "train/sweep/cell_runner.hpp"
#include "train/sweep/failure_criteria.hpp"
#include "train/sweep/grid_figures.hpp"
#include "train/sweep/grid_report.hpp"
#include "train/sweep/results_table.hpp"

#include "train/command_line.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

using namespace torus;
namespace fs = std::filesystem;

namespace {
// A finished cell counts only for the settings it was run with: a grid edited since (another
// base setting, another working directory for relative paths) must not reuse it silently.
void check_same_settings(const sweep::Cell& cell, const std::string& dir) {
  const std::string path = dir + "/sweep_cell.toml";
  const std::string now = train::to_toml(cell.config);
  if (sweep::read_bounded(path, sweep::kMaxJsonBytes, "cell configuration") != now)
    throw train::ConfigError(path + ": cell " + cell.name + " was run with other settings than the grid now gives it; "
                             "use another --out, or remove " + dir + " to run it again");
}

std::string describe_state(const std::string& dir) {
  switch (sweep::cell_state(dir)) {
    case sweep::CellState::finished: {
      const nlohmann::json r = sweep::read_cell_record(dir);
      return r["status"] == "ok" ? "done, ok" : "done, failed (" + r["reason"].get<std::string>() + ")";
    }
    case sweep::CellState::started: return "started, will resume";
    case sweep::CellState::errored: return "failed (error: a tool failed), will run again";
    case sweep::CellState::pending: return "to run";
  }
  return "";
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs a grid of torus-train settings (the cross product of the grid file's axes), each cell trained, embedded "
               "and evaluated by the ordinary binaries, judged for failure, tabulated, plotted and reported."};
  std::string grid_path, out_dir;
  bool dry_run = false;
  sweep::RunSettings settings;
  app.add_option("--grid", grid_path, "grid file: base_config, [base], [axes], [eval] (train/configs/paper_grid.toml)")->required();
  app.add_option("--out", out_dir, "sweep folder: cells/, results.csv, results.json, figures/, report.md")->required();
  app.add_flag("--dry-run", dry_run, "list the cells and which are done, run nothing");
  app.add_option("--threads", settings.threads, "threads of every child (default: each cell's train.threads; the evaluations 2)")
      ->check(CLI::Range(1, 256));
  app.footer("Failure criteria: " + sweep::describe_thresholds());
  if (const int status = torus::train::parse_command_line(app, argc, argv); status >= 0) return status;

  sweep::GridSpec grid;
  std::vector<sweep::Cell> cells;
  try {
    grid = sweep::read_grid_file(grid_path);
    cells = sweep::expand_cells(grid);
    settings.quant_eval = grid.quant_eval;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-sweep: %s\n", e.what());
    return 2;
  }
  const std::string cells_dir = out_dir + "/cells";
  if (dry_run) {
    int finished = 0;
    try {
      for (const sweep::Cell& cell : cells) {
        const std::string state = describe_state(cells_dir + "/" + cell.name);
        finished += state.rfind("done", 0) == 0;
        std::printf("%-60s %s\n", cell.name.c_str(), state.c_str());
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "torus-sweep: %s\n", e.what());
      return 1;
    }
    std::printf("%zu cells, %d done, %zu to run\n", cells.size(), finished, cells.size() - finished);
    return 0;
  }
  try {
    const sweep::Tools tools = sweep::Tools::beside_this_executable();
    fs::create_directories(cells_dir);
    // One sweep per folder at a time (the lock torus-train takes on a run folder).
    std::unique_ptr<train::RunFolderLock> lock;
    try {
      lock = std::make_unique<train::RunFolderLock>(out_dir);
    } catch (const train::ConfigError&) {  // held by another process; other failures pass as they are
      throw std::runtime_error(out_dir + ": another torus-sweep is running in this folder; wait for it or choose another --out");
    }
    nn::io::remove_abandoned_temporaries(out_dir);
    nn::io::write_file_atomic(out_dir + "/grid.toml", sweep::read_bounded(grid_path, 1u << 20, "grid file"));
    std::vector<sweep::ResultRow> rows;
    int ran = 0, failed = 0;
    for (size_t i = 0; i < cells.size(); ++i) {
      const sweep::Cell& cell = cells[i];
      const std::string dir = cells_dir + "/" + cell.name;
      nlohmann::json record;
      if (sweep::cell_state(dir) == sweep::CellState::finished) {
        check_same_settings(cell, dir);
        record = sweep::read_cell_record(dir);
        std::fprintf(stderr, "[%zu/%zu] %s: done before, %s\n", i + 1, cells.size(), cell.name.c_str(),
                     record.value("status", "?").c_str());
      } else {
        if (fs::exists(dir + "/sweep_cell.toml")) check_same_settings(cell, dir);
        std::fprintf(stderr, "[%zu/%zu] %s\n", i + 1, cells.size(), cell.name.c_str());
        record = sweep::run_cell(cell, dir, tools, settings, stderr);
        ++ran;
        std::fprintf(stderr, "  -> %s%s (%.1f s)\n", record.value("status", "?").c_str(),
                     record.value("status", "") == "ok" ? "" : (": " + record.value("reason", "")).c_str(),
                     record.value("seconds", 0.0));
      }
      failed += record.value("status", "") != "ok";
      for (sweep::ResultRow& r : sweep::result_rows(cell, record, grid.quant_modes)) rows.push_back(std::move(r));
      // The tables after every cell: a long sweep can be looked at while it runs.
      sweep::write_results(out_dir, grid, rows);
    }
    const std::vector<std::string> figures = sweep::write_grid_figures(out_dir, grid, rows);
    sweep::write_report(out_dir, grid, rows, figures);
    std::printf("{\"out\":\"%s\",\"cells\":%zu,\"ran\":%d,\"ok\":%zu,\"failed\":%d,\"figures\":%zu}\n", out_dir.c_str(),
                cells.size(), ran, cells.size() - failed, failed, figures.size());
    return 0;
  } catch (const train::ConfigError& e) {
    std::fprintf(stderr, "torus-sweep: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-sweep: %s\n", e.what());
    return 1;
  }
}
