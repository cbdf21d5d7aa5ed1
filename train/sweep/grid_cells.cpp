#include "train/sweep/grid_cells.hpp"

#include <algorithm>
#include <set>

namespace torus::sweep {

namespace {
// Folder names stay portable and need no quoting in a shell: anything else becomes '_'.
std::string folder_safe(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                      ch == '-' || ch == '+';
    out += keep ? ch : '_';
  }
  return out;
}
// Below NAME_MAX (255) with room for the temporaries write_file_atomic puts beside files.
constexpr size_t kMaxNameBytes = 200;
}  // namespace

std::string axis_label(const GridSpec& grid, const std::string& key) {
  const auto last = [](const std::string& k) { return k.substr(k.rfind('.') + 1); };
  int sharing = 0;
  for (const Axis& a : grid.axes) sharing += last(a.key) == last(key);
  if (sharing <= 1) return last(key);
  std::string label = key;
  std::replace(label.begin(), label.end(), '.', '-');
  return label;
}

std::vector<Cell> expand_cells(const GridSpec& grid) {
  const train::TrainConfig base = base_config(grid);
  std::vector<Cell> cells;
  std::vector<size_t> index(grid.axes.size(), 0);
  std::set<std::string> names;
  while (true) {
    Cell cell;
    std::vector<std::pair<std::string, std::string>> flags;
    for (size_t a = 0; a < grid.axes.size(); ++a) {
      const Axis& axis = grid.axes[a];
      cell.values.push_back({axis.key, axis.values[index[a]]});
      flags.emplace_back(axis.key, axis.values[index[a]]);
      cell.name += (a ? "_" : "") + axis_label(grid, axis.key) + "-" + folder_safe(axis.values[index[a]]);
    }
    if (grid.axes.empty()) cell.name = "base";
    if (cell.name.size() > kMaxNameBytes)
      throw GridError(grid.path + ": cell " + cell.name.substr(0, 60) + "...: its folder name is over " +
                      std::to_string(kMaxNameBytes) + " bytes; shorten the axis values");
    if (!names.insert(cell.name).second)
      throw GridError(grid.path + ": two cells get the folder name " + cell.name +
                      " (values differing only in characters a folder name cannot hold); rename the values");
    cell.config = base;
    try {
      train::apply_flags(cell.config, flags);
      train::validate(cell.config);
    } catch (const train::ConfigError& e) {
      throw GridError(grid.path + ": cell " + cell.name + ": " + e.what());
    }
    train::resolve_paths(cell.config);
    cells.push_back(std::move(cell));
    // The last axis varies fastest, like nested loops written in the file's order.
    size_t a = grid.axes.size();
    while (a > 0 && ++index[a - 1] == grid.axes[a - 1].values.size()) index[--a] = 0;
    if (a == 0) break;
  }
  return cells;
}

}  // namespace torus::sweep
