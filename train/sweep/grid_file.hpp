// The grid file of torus-sweep: the settings every cell shares, the axes whose cross product makes
// the cells, and what to evaluate. Keys are torus-train's own ("model.head", "loss.koleo"), so a
// grid says nothing a configuration file could not; every key and value is checked here, against
// torus-train's table of settings, before a single cell runs.
//
//   base_config = "quickstart.toml"   # optional: a torus-train configuration (relative to this file)
//   [base]                            # optional: settings on top of it, as in a configuration file
//   train.epochs = 5                  #   (or [base.train] epochs = 5)
//   [axes]                            # each a non-empty list of values of one setting
//   "model.head" = ["sphere", "torusN", "torusC"]
//   "loss.koleo" = [0, 0.001, 0.1, 1]
//   [eval]                            # optional
//   quant_modes = ["none", "8bit"]    # rows of torus-quant-eval kept in the results (default: all)
//   quant_eval = true                 # run torus-quant-eval at all
//
// Paths in the settings are taken from the working directory, as torus-train takes them.
#pragma once

#include "train/train_config.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace torus::sweep {

// A bad grid file: the message names the file, the key and what was expected. torus-sweep exits 2.
class GridError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One setting's value as torus-train's flag would take it ("0.001", "torusN", "true").
struct SettingValue {
  std::string key, text;
};

struct Axis {
  std::string key;                  // a torus-train setting
  std::vector<std::string> values;  // as flag text, in the file's order
  int64_t line = 0, column = 0;     // where the grid file names it: axes keep the file's order
};

struct GridSpec {
  std::string path;         // the grid file, for messages
  std::string base_config;  // "" or a configuration file (already made relative to the working directory)
  std::vector<SettingValue> base;
  std::vector<Axis> axes;
  std::vector<std::string> quant_modes;  // empty: every row
  bool quant_eval = true;
};

// torus-quant-eval's row names (train/eval/quant_table.hpp), which [eval] quant_modes may list.
const std::vector<std::string>& quant_mode_names();

// Reads and checks `path`: unknown top-level keys, sections or settings, a value of the wrong type
// or out of its range, an empty axis, a repeated value on an axis, a key both in [base] and on an
// axis, all throw GridError naming the file, the line and the key.
GridSpec read_grid_file(const std::string& path);

// The configuration [base] (on base_config) describes, before any axis.
train::TrainConfig base_config(const GridSpec& grid);

}  // namespace torus::sweep
