// write_torus_scatter: two circles of the embeddings on the flat square torus, one (colour,
// marker) per class, with a legend beside the square.
#include "train/plot.hpp"

#include "train/plot/axes.hpp"
#include "train/plot/class_style.hpp"
#include "train/plot/legend.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace torus::train {

using namespace plot;

void write_torus_scatter(const std::string& png_path, const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<float>& x, const std::vector<float>& y,
                         const std::vector<int>& labels, const std::vector<std::string>& class_names) {
  if (x.size() != y.size() || x.size() != labels.size())
    throw std::invalid_argument("write_torus_scatter: x, y and labels differ in length");
  constexpr int kWidth = 940, kHeight = 760;
  const Axes a{92, 56, 92 + 620.0, 56 + 620.0, 0, 1, 0, 1};
  const std::vector<double> ticks = {0, 0.25, 0.5, 0.75, 1};
  const int classes = std::max(labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1,
                               int(class_names.size()));
  write_png_and_svg(png_path, kWidth, kHeight, [&](Canvas& c) {
    c.text(kWidth / 2.0, 32, c.fit_text(title, 17, kWidth - 40, true), 17, Anchor::middle, 0, true);
    draw_axes(c, a, ticks, ticks, x_label, y_label);
    // The glued sides: each edge of the frame dashed, saying "opposite edges meet".
    for (const auto& [x0, y0, x1, y1] : {std::array{a.left, a.top, a.right, a.top}, std::array{a.left, a.bottom, a.right, a.bottom},
                                         std::array{a.left, a.top, a.left, a.bottom}, std::array{a.right, a.top, a.right, a.bottom}}) {
      c.line(x0, y0, x1, y1, 2.5, kWhite);
      c.line(x0, y0, x1, y1, 1.2, kBlack, true);
    }
    for (size_t i = 0; i < x.size(); ++i) {
      if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
      const double u = x[i] - std::floor(x[i]), v = y[i] - std::floor(y[i]);  // onto the square
      draw_marker(c, a.px(u), a.py(v), 2.6, class_style(labels[i]));
    }
    LegendLayout l;
    l.x = a.right + 16, l.y = a.top, l.width = kWidth - l.x - 12, l.max_height = a.bottom - a.top;
    // Only the entries that fit are named: the number of classes comes from the largest label.
    std::vector<LegendEntry> entries;
    for (int k = 0; k < std::min(classes, legend_rows_shown(l, classes)); ++k)
      entries.push_back({k < int(class_names.size()) ? class_names[size_t(k)] : "class " + std::to_string(k), k});
    if (classes > 0) draw_legend(c, l, entries, classes);
  });
}

}  // namespace torus::train
