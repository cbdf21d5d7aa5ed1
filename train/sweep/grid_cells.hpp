// The cells of a grid: the cross product of its axes, the first axis varying slowest, each with a
// readable folder name ("head-torusN_koleo-0.001_dim-16") and its whole torus-train configuration,
// resolved and validated before any cell runs, so a grid that cannot run fails at once.
#pragma once

#include "train/sweep/grid_file.hpp"

#include <string>
#include <vector>

namespace torus::sweep {

struct Cell {
  std::string name;                  // its folder under cells/
  std::vector<SettingValue> values;  // one per axis, in the grid's order
  train::TrainConfig config;         // base + values, paths absolute
};

// GridError naming the grid file and the cell when a combination is invalid (torusN with an odd D),
// or when two cells would get the same folder name.
std::vector<Cell> expand_cells(const GridSpec& grid);

// An axis key as cell names and tables show it: its last part ("head" for "model.head"), or the
// whole key with dots as dashes when two axes share that last part.
std::string axis_label(const GridSpec& grid, const std::string& key);

}  // namespace torus::sweep
