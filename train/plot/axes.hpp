// A plot's axes: the data range mapped onto a pixel rectangle, nice ticks (1, 2 or 5 x 10^k, or
// powers of two on a log2 axis), their labels (never "-0"), the grid, the frame and both axis
// labels, all inside the canvas.
#pragma once

#include "train/plot/canvas.hpp"

#include <string>
#include <vector>

namespace torus::train::plot {

struct Axes {
  double left = 0, top = 0, right = 0, bottom = 0;  // the plot area in pixels
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;          // the data range (x as log2 when log2_x)
  bool log2_x = false;
  double px(double x) const;  // data x (not its log) to pixels
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
};

// The multiples of a 1, 2 or 5 x 10^k step in [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target);
// The multiples of `step` in [lo, hi].
std::vector<double> ticks_every(double lo, double hi, double step);
// The step between nice ticks (what tick_text needs to choose its decimals).
double nice_step(double lo, double hi, int target);
// `v` with the fewest decimals that tell steps of `step` apart; a value that rounds to zero is "0".
std::string tick_text(double v, double step);

// [lo, hi] widened to whole nice steps, with room when empty or a single value; returns the step.
double widen_to_ticks(double& lo, double& hi, int target);

// [lo, hi] widened by `share` of its length at both ends: room for the markers on the end ticks,
// which the frame would otherwise cut in half.
void pad_range(double& lo, double& hi, double share = 0.03);

// Grid, frame, tick labels and axis labels; x_ticks are data values (powers of two for log2_x).
void draw_axes(Canvas& c, const Axes& a, const std::vector<double>& x_ticks, const std::vector<double>& y_ticks,
               const std::string& x_label, const std::string& y_label, double font = 13);

// The powers of two in [lo, hi] (data values, not logs).
std::vector<double> power_of_two_ticks(double lo, double hi);

}  // namespace torus::train::plot
