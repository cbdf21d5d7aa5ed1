// The plots of a run folder and of torus-quant-eval, each written as a PNG and, beside it, an SVG
// of the same picture (train/plot/canvas.hpp: Cairo, atomic writes). Titles, labels and class
// names are user text: invalid UTF-8 is drawn as U+FFFD, never used to index anything.
#pragma once

#include "geometry/row_matrix.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace torus::train {

struct Curve {
  std::string name;  // shown in the legend
  std::vector<double> x, y;
};

struct LinePlot {
  std::string title, x_label, y_label;
  bool log2_x = false;        // x on a log2 scale with power-of-two ticks (bits per vector)
  bool integer_x = false;     // x counts something (epochs): no ticks between whole numbers
  bool joined = true;         // a curve's points joined by lines
  // What y can be at all (precision@1 and circular variance lie in [0, 1]): the axis never goes
  // past these, however it is widened around the data.
  double y_floor = -INFINITY, y_ceiling = INFINITY;
};

// One or more curves sharing the axes, each with its own colour and marker; non-finite points
// (and, on a log2 axis, non-positive x) are skipped. Writes png_path and the SVG beside it.
void write_line_plot(const std::string& png_path, const LinePlot& plot, const std::vector<Curve>& curves);

// Points (x, y) in turns on the unit square whose opposite sides are glued (the flat torus), one
// (colour, marker) per label; `class_names` (optional) name the legend's entries.
void write_torus_scatter(const std::string& png_path, const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<float>& x, const std::vector<float>& y,
                         const std::vector<int>& labels, const std::vector<std::string>& class_names = {});

// One small histogram per circle of `angles` (N, K) in turns, on a shared vertical scale, each
// panel naming its circle and mean resultant length R: a collapsed circle is a single tall spike
// (R near 1) among flat panels.
void write_angle_histograms(const std::string& png_path, const std::string& title,
                            const geometry::RowMatrix<float>& angles);

}  // namespace torus::train
