// A legend: one row per entry (its marker, optionally on a line segment, and its name cut to the
// width), as many as fit the height; when they do not all fit, the last row says how many were
// left out ("… and 70 more classes"), so a truncated legend never passes for a complete one.
#pragma once

#include "train/plot/canvas.hpp"

#include <string>
#include <vector>

namespace torus::train::plot {

struct LegendEntry {
  std::string name;
  int style = 0;  // class_style index
};

struct LegendLayout {
  double x = 0, y = 0, width = 0, max_height = 0;  // top-left corner and the room it may take
  double font = 12;
  bool with_line = false;  // a line through the marker (curves), or the marker alone (classes)
  std::string noun = "classes";  // in the truncation note
};

// Draws the legend of `count` entries on a white box with a grey border; returns its height.
// `entries` needs to hold only the first legend_rows_shown(layout, count) of them.
double draw_legend(Canvas& c, const LegendLayout& layout, const std::vector<LegendEntry>& entries, int count);

// The height draw_legend takes for `count` entries.
double legend_height(const LegendLayout& layout, int count);

// How many entries of `count` a legend of this height shows (the rest summarised in one row).
int legend_rows_shown(const LegendLayout& layout, int count);

}  // namespace torus::train::plot
