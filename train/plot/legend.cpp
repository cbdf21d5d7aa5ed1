#include "train/plot/legend.hpp"

#include "train/plot/class_style.hpp"

#include <algorithm>

namespace torus::train::plot {

namespace {
double row_height(const LegendLayout& l) { return l.font * 1.45; }
constexpr double kPad = 6;
}  // namespace

int legend_rows_shown(const LegendLayout& layout, int count) {
  const int rows = std::max(1, int((layout.max_height - 2 * kPad) / row_height(layout)));
  return count <= rows ? count : rows - 1;  // the last row holds the note
}

double legend_height(const LegendLayout& l, int count) {
  const int shown = std::max(0, legend_rows_shown(l, count));
  return (shown + (shown < count ? 1 : 0)) * row_height(l) + 2 * kPad;
}

double draw_legend(Canvas& c, const LegendLayout& l, const std::vector<LegendEntry>& entries, int count) {
  const int shown = std::min(std::max(0, legend_rows_shown(l, count)), int(entries.size()));
  const double h = legend_height(l, count);
  c.fill_rect(l.x, l.y, l.width, h, kWhite);
  c.stroke_rect(l.x, l.y, l.width, h, 0.8, kGrey);
  const double symbol = l.with_line ? 28 : 14;
  for (int i = 0; i < shown; ++i) {
    const double mid = l.y + kPad + (i + 0.5) * row_height(l);
    const ClassStyle style = class_style(entries[size_t(i)].style);
    if (l.with_line) c.line(l.x + kPad, mid, l.x + kPad + symbol, mid, 2, style.colour);
    draw_marker(c, l.x + kPad + symbol / 2, mid, l.font * 0.33, style);
    const double text_x = l.x + 2 * kPad + symbol;
    c.text(text_x, mid + l.font * 0.36, c.fit_text(entries[size_t(i)].name, l.font, l.x + l.width - kPad - text_x),
           l.font);
  }
  if (shown < count) {
    const double mid = l.y + kPad + (shown + 0.5) * row_height(l);
    c.text(l.x + kPad, mid + l.font * 0.36, "\u2026 and " + std::to_string(count - shown) + " more " + l.noun, l.font,
           Anchor::start, 0, false, kGrey);
  }
  return h;
}

}  // namespace torus::train::plot
