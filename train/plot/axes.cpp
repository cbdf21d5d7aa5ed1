#include "train/plot/axes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace torus::train::plot {

double Axes::px(double x) const {
  const double v = log2_x ? std::log2(x) : x;
  return left + (v - x0) / (x1 - x0) * (right - left);
}

double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / std::max(target, 1);
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * p >= raw * 0.999) return m * p;
  return 10 * p;
}

std::vector<double> nice_ticks(double lo, double hi, int target) { return ticks_every(lo, hi, nice_step(lo, hi, target)); }

std::vector<double> ticks_every(double lo, double hi, double step) {
  std::vector<double> ticks;
  // Multiples counted as integers, so 0.1 + 0.2 never drifts past hi and zero is exactly zero.
  // "+ 0.0" turns the -0.0 that ceil gives for (-1, 0) into +0.0.
  for (double k = std::ceil(lo / step - 1e-9) + 0.0; k * step <= hi + 1e-9 * step; ++k) ticks.push_back(k * step);
  return ticks;
}

std::string tick_text(double v, double step) {
  int decimals = 0;  // the fewest that show every tick exactly (0.25 needs 2, 0.2 needs 1)
  while (decimals < 8) {
    const double scaled = step * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) <= 1e-6 * std::max(1.0, scaled)) break;
    ++decimals;
  }
  // A value that prints as zero prints as "0": -1e-17 must not become "-0.00".
  if (std::fabs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double widen_to_ticks(double& lo, double& hi, int target) {
  if (!(lo <= hi)) lo = 0, hi = 1;  // nothing finite: empty unit axes
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
    const double pad = std::max(0.5, std::fabs(hi) * 0.1);
    lo -= pad, hi += pad;
  }
  const double step = nice_step(lo, hi, target);
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  return step;
}

void pad_range(double& lo, double& hi, double share) {
  const double d = (hi - lo) * share;
  lo -= d, hi += d;
}

std::vector<double> power_of_two_ticks(double lo, double hi) {
  std::vector<double> ticks;
  for (double e = std::ceil(std::log2(lo) - 1e-9); e <= std::log2(hi) + 1e-9; ++e) ticks.push_back(std::exp2(e));
  return ticks;
}

void draw_axes(Canvas& c, const Axes& a, const std::vector<double>& x_ticks, const std::vector<double>& y_ticks,
               const std::string& x_label, const std::string& y_label, double font) {
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  double widest_y = 0;
  for (double y : y_ticks) {
    const double Y = a.py(y);
    c.line(a.left, Y, a.right, Y, 1, kGrid);
    const std::string t = tick_text(y, y_step);
    widest_y = std::max(widest_y, c.text_width(t, font));
    c.text(a.left - 7, Y + font * 0.35, t, font, Anchor::end);
  }
  for (double x : x_ticks) {
    const double X = a.px(x);
    c.line(X, a.top, X, a.bottom, 1, kGrid);
    c.text(X, a.bottom + font + 6, a.log2_x ? tick_text(x, 1) : tick_text(x, x_step), font, Anchor::middle);
  }
  c.stroke_rect(a.left, a.top, a.right - a.left, a.bottom - a.top, 1.2, kBlack);
  // Each label cut to its side's length, so a long one is never clipped by the canvas.
  c.text((a.left + a.right) / 2, a.bottom + 2 * font + 16, c.fit_text(x_label, font + 1, a.right - a.left), font + 1,
         Anchor::middle);
  // Rotated, clear of the widest tick label.
  c.text(a.left - 7 - widest_y - 10, (a.top + a.bottom) / 2, c.fit_text(y_label, font + 1, a.bottom - a.top), font + 1,
         Anchor::middle, 90);
}

}  // namespace torus::train::plot
