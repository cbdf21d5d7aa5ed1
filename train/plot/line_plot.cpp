// write_line_plot: curves over a shared x (epochs, or bits per vector on a log2 axis).
#include "train/plot.hpp"

#include "train/plot/axes.hpp"
#include "train/plot/class_style.hpp"
#include "train/plot/legend.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>

namespace torus::train {

using namespace plot;

namespace {
// Curve k's style: colour and marker both change from curve to curve, so curves stay apart in
// greyscale print and where points of two curves coincide.
int curve_style(size_t k) { return int(k % kColours) * (kColours + 1); }

bool shown(const LinePlot& p, double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!p.log2_x || x > 0); }

// The legend in the corner of the plot area that hides the fewest points (top right first).
void place_legend(LegendLayout& l, const Axes& a, double height, const std::vector<Curve>& curves, const LinePlot& p) {
  constexpr double kInset = 8;
  int fewest = -1;
  for (const auto& [right, top] : {std::pair{true, true}, std::pair{true, false}, std::pair{false, true}, std::pair{false, false}}) {
    const double x = right ? a.right - l.width - kInset : a.left + kInset;
    const double y = top ? a.top + kInset : a.bottom - kInset - height;
    int hidden = 0;
    for (const Curve& cv : curves)
      for (size_t i = 0; i < std::min(cv.x.size(), cv.y.size()); ++i) {
        if (!shown(p, cv.x[i], cv.y[i])) continue;
        const double X = a.px(cv.x[i]), Y = a.py(cv.y[i]);
        hidden += X >= x - 6 && X <= x + l.width + 6 && Y >= y - 6 && Y <= y + height + 6;
      }
    if (fewest < 0 || hidden < fewest) fewest = hidden, l.x = x, l.y = y;
    if (hidden == 0) return;
  }
}
}  // namespace

void write_line_plot(const std::string& png_path, const LinePlot& p, const std::vector<Curve>& curves) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Curve& cv : curves)
    for (size_t i = 0; i < std::min(cv.x.size(), cv.y.size()); ++i) {
      if (!shown(p, cv.x[i], cv.y[i])) continue;
      const double x = p.log2_x ? std::log2(cv.x[i]) : cv.x[i];
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, cv.y[i]), y1 = std::max(y1, cv.y[i]);
    }
  const bool empty = !(x0 <= x1);
  if (empty) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (p.log2_x) {
    // Whole powers of two at both ends, so the first and last points sit on a tick.
    x0 = std::floor(x0), x1 = std::max(std::ceil(x1), x0 + 1);
  } else if (x1 - x0 < 1e-12 * std::max(1.0, std::fabs(x1))) {
    x0 -= 0.5, x1 += 0.5;  // one x (one epoch so far): centred
  }
  const double y_step = widen_to_ticks(y0, y1, 6);
  y0 = std::max(y0, p.y_floor), y1 = std::min(y1, p.y_ceiling);

  std::vector<double> x_ticks;
  if (p.log2_x) {
    x_ticks = power_of_two_ticks(std::exp2(x0), std::exp2(x1));
  } else {
    x_ticks = nice_ticks(x0, x1, 8);  // epochs or any x: the data's own ends, ticks within
    if (p.integer_x) std::erase_if(x_ticks, [](double t) { return t != std::round(t); });
  }
  const std::vector<double> y_ticks = ticks_every(y0, y1, y_step);
  pad_range(x0, x1);
  pad_range(y0, y1);

  constexpr int kWidth = 820, kHeight = 520;
  Axes a{92, 50, kWidth - 24.0, kHeight - 70.0, x0, x1, y0, y1, p.log2_x};
  write_png_and_svg(png_path, kWidth, kHeight, [&](Canvas& c) {
    c.text(kWidth / 2.0, 30, c.fit_text(p.title, 17, kWidth - 40, true), 17, Anchor::middle, 0, true);
    draw_axes(c, a, x_ticks, y_ticks, p.x_label, p.y_label);
    cairo_t* cr = c.cairo();
    cairo_save(cr);
    cairo_rectangle(cr, a.left, a.top, a.right - a.left, a.bottom - a.top);
    cairo_clip(cr);
    for (size_t k = 0; k < curves.size(); ++k) {
      const Curve& cv = curves[k];
      const ClassStyle style = class_style(curve_style(k));
      bool have_prev = false;
      double px = 0, py = 0;
      for (size_t i = 0; i < std::min(cv.x.size(), cv.y.size()); ++i) {
        if (!shown(p, cv.x[i], cv.y[i])) {
          have_prev = false;
          continue;
        }
        const double X = a.px(cv.x[i]), Y = a.py(cv.y[i]);
        if (have_prev && p.joined) c.line(px, py, X, Y, 2, style.colour);
        px = X, py = Y, have_prev = true;
      }
      for (size_t i = 0; i < std::min(cv.x.size(), cv.y.size()); ++i)
        if (shown(p, cv.x[i], cv.y[i])) draw_marker(c, a.px(cv.x[i]), a.py(cv.y[i]), p.joined ? 4 : 5.5, style);
    }
    cairo_restore(cr);
    if (curves.size() > 1 || (curves.size() == 1 && !curves[0].name.empty())) {
      std::vector<LegendEntry> entries;
      for (size_t k = 0; k < curves.size(); ++k) entries.push_back({curves[k].name, curve_style(k)});
      LegendLayout l;
      l.width = 190, l.max_height = (a.bottom - a.top) - 16;
      l.with_line = p.joined;
      l.noun = "curves";
      place_legend(l, a, legend_height(l, int(entries.size())), curves, p);
      draw_legend(c, l, entries, int(entries.size()));
    }
    if (empty) c.text((a.left + a.right) / 2, (a.top + a.bottom) / 2, "no finite values yet", 14, Anchor::middle, 0, false, kGrey);
  });
}

}  // namespace torus::train
