#include "train/sweep/grid_figures.hpp"

#include "train/plot.hpp"
#include "train/plot/axes.hpp"
#include "train/plot/canvas.hpp"
#include "train/plot/class_style.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <cctype>

namespace torus::sweep {

using namespace train::plot;
namespace fs = std::filesystem;

namespace {
const std::set<std::string> kDrawnAxes = {"model.head", "loss.koleo", "model.dim", "train.seed", "data.dataset"};

std::string safe(const std::string& text) {
  std::string out;
  for (const char ch : text) out += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-') ? ch : '_';
  return out;
}

// As the legend styles curves in write_line_plot: colour and marker change together.
ClassStyle head_style(size_t k) { return class_style(int(k % kColours) * (kColours + 1)); }

std::string weight_text(double w) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", w);
  return buf;
}

// As torus-quant-eval's own plot groups them: the product quantisers (pq8_2, pq4_4, ...) are one
// family "pqB_M" (B bits per sub-quantiser, M of them), and so are the cpq rows; with them the
// families and the failed cells fit the ten styles curves get before repeating.
std::string family_of(const std::string& mode) {
  for (const std::string prefix : {"pq", "cpq"})
    if (mode.size() > prefix.size() && mode.compare(0, prefix.size(), prefix) == 0 &&
        std::isdigit(static_cast<unsigned char>(mode[prefix.size()])))
      return prefix + "B_M";
  return mode;
}

struct PanelPoint {
  std::vector<double> ok, failed;  // measured values of the cells (seeds) at this point
};

// The paper's figure for one group and one mode.
void koleo_figure(const std::string& png, const std::string& title, const std::vector<const ResultRow*>& rows) {
  std::vector<int64_t> dims;
  std::vector<std::string> heads;
  std::vector<double> weights;
  for (const ResultRow* r : rows) {
    if (std::find(dims.begin(), dims.end(), r->dim) == dims.end()) dims.push_back(r->dim);
    if (std::find(heads.begin(), heads.end(), r->head) == heads.end()) heads.push_back(r->head);
    if (std::find(weights.begin(), weights.end(), r->koleo) == weights.end()) weights.push_back(r->koleo);
  }
  std::sort(dims.begin(), dims.end());
  std::sort(weights.begin(), weights.end());
  double smallest_positive = 0;
  for (double w : weights)
    if (w > 0) {
      smallest_positive = w;
      break;
    }
  double x0 = INFINITY, x1 = -INFINITY;
  for (double w : weights) x0 = std::min(x0, koleo_position(w, smallest_positive)), x1 = std::max(x1, koleo_position(w, smallest_positive));
  if (x1 - x0 < 1e-9) x0 -= 0.5, x1 += 0.5;
  pad_range(x0, x1, 0.08);

  // (measure, D, head, weight) -> values
  using Key = std::tuple<int, int64_t, std::string, double>;
  std::map<Key, PanelPoint> points;
  for (const ResultRow* r : rows)
    for (int m = 0; m < 2; ++m) {
      const std::optional<double>& v = m == 0 ? r->precision_at_1 : r->circular_variance;
      PanelPoint& p = points[{m, r->dim, r->head, r->koleo}];
      if (r->ok() && v) p.ok.push_back(*v);
      else if (!r->ok()) p.failed.push_back(v.value_or(0));
    }

  constexpr int kPanelW = 300, kPanelH = 250, kLeft = 80, kTop = 86, kGapX = 30, kGapY = 70;
  // Wide enough for the title and the legend even with one panel.
  const int panels_width = int(dims.size()) * (kPanelW + kGapX) - kGapX;
  const int width = std::max(900, kLeft + panels_width + 20);
  const double first_left = std::max<double>(kLeft, (width - panels_width) / 2.0);
  const int height = kTop + 2 * (kPanelH + kGapY);
  const char* measure_names[2] = {"precision@1", "circular variance"};
  write_png_and_svg(png, width, height, [&](Canvas& c) {
    c.text(width / 2.0, 28, c.fit_text(title, 17, width - 40, true), 17, Anchor::middle, 0, true);
    // The legend: one entry per head, then the failed-cell cross.
    double lx = first_left;
    for (size_t k = 0; k <= heads.size(); ++k) {
      const bool failed_entry = k == heads.size();
      const std::string name = failed_entry ? "failed cell (what it measured, in its head's colour)" : heads[k];
      if (failed_entry) draw_marker(c, lx + 14, 52, 6, ClassStyle{kGrey, Marker::cross});
      else c.line(lx, 52, lx + 28, 52, 2, head_style(k).colour), draw_marker(c, lx + 14, 52, 4, head_style(k));
      c.text(lx + 34, 56, name, 13);
      lx += 34 + c.text_width(name, 13) + 24;
    }
    for (int m = 0; m < 2; ++m)
      for (size_t d = 0; d < dims.size(); ++d) {
        const double left = first_left + double(d) * (kPanelW + kGapX), top = kTop + m * (kPanelH + kGapY);
        Axes a{left, top, left + kPanelW, top + kPanelH, x0, x1, -0.03, 1.03, false};
        draw_axes(c, a, {}, ticks_every(0, 1, 0.2), "KoLeo weight", d == 0 ? measure_names[m] : "", 12);
        for (double w : weights) {
          const double X = a.px(koleo_position(w, smallest_positive));
          c.line(X, a.top, X, a.bottom, 1, kGrid);
          c.text(X, a.bottom + 18, weight_text(w), 12, Anchor::middle);
        }
        c.stroke_rect(a.left, a.top, a.right - a.left, a.bottom - a.top, 1.2, kBlack);
        c.text((a.left + a.right) / 2, a.top - 8, "D " + std::to_string(dims[d]), 14, Anchor::middle, 0, true);
        for (size_t k = 0; k < heads.size(); ++k) {
          bool have_prev = false;
          double px = 0, py = 0;
          for (double w : weights) {
            const auto it = points.find({m, dims[d], heads[k], w});
            if (it == points.end()) continue;
            const double X = a.px(koleo_position(w, smallest_positive));
            for (double v : it->second.failed)
              draw_marker(c, X, a.py(std::clamp(v, 0.0, 1.0)), 6.5, ClassStyle{head_style(k).colour, Marker::cross});
            if (it->second.ok.empty()) {
              have_prev = false;  // a gap where every seed failed
              continue;
            }
            double mean = 0;
            for (double v : it->second.ok) mean += v / double(it->second.ok.size());
            const double Y = a.py(mean);
            if (have_prev) c.line(px, py, X, Y, 2, head_style(k).colour);
            draw_marker(c, X, Y, 4, head_style(k));
            px = X, py = Y, have_prev = true;
          }
        }
      }
  });
}
}  // namespace

double koleo_position(double w, double smallest_positive) {
  if (w > 0) return std::log10(w);
  return smallest_positive > 0 ? std::log10(smallest_positive) - 1 : 0;
}

std::string figure_group(const GridSpec& grid, const ResultRow& row) {
  std::string group = row.dataset;
  for (const SettingValue& v : row.values)
    if (!kDrawnAxes.count(v.key)) group.append("_").append(v.key.substr(v.key.rfind('.') + 1)).append("-").append(v.text);
  (void)grid;
  return safe(group);
}

std::vector<std::string> write_grid_figures(const std::string& out_dir, const GridSpec& grid, const std::vector<ResultRow>& rows) {
  fs::create_directories(out_dir + "/figures");
  std::map<std::pair<std::string, std::string>, std::vector<const ResultRow*>> by_group_mode, by_group_head;
  for (const ResultRow& r : rows) {
    if (r.mode.empty()) continue;  // nothing measured: counted in the report, not drawable
    by_group_mode[{figure_group(grid, r), r.mode}].push_back(&r);
    by_group_head[{figure_group(grid, r), r.head}].push_back(&r);
  }
  std::vector<std::string> written;
  for (const auto& [key, group_rows] : by_group_mode) {
    const std::string name = "figures/" + key.first + "_" + safe(key.second) + ".png";
    koleo_figure(out_dir + "/" + name, key.first + ", " + key.second + ": precision@1 and circular variance by KoLeo weight",
                 group_rows);
    written.push_back(name);
  }
  for (const auto& [key, group_rows] : by_group_head) {
    std::vector<train::Curve> curves;
    train::Curve failed{"failed cells", {}, {}};
    for (const ResultRow* r : group_rows) {
      if (!r->bits || !r->precision_at_1) continue;
      if (!r->ok()) {
        failed.x.push_back(*r->bits), failed.y.push_back(*r->precision_at_1);
        continue;
      }
      const std::string family = family_of(r->mode);
      auto it = std::find_if(curves.begin(), curves.end(), [&](const train::Curve& cv) { return cv.name == family; });
      if (it == curves.end()) it = curves.insert(curves.end(), train::Curve{family, {}, {}});
      it->x.push_back(*r->bits), it->y.push_back(*r->precision_at_1);
    }
    if (!failed.x.empty()) curves.push_back(failed);
    train::LinePlot plot;
    plot.title = key.first + ", " + key.second + ": bits per vector against precision@1, every cell";
    plot.x_label = "bits per vector (log scale)";
    plot.y_label = "precision@1 (test queries)";
    plot.log2_x = true, plot.joined = false, plot.y_floor = 0, plot.y_ceiling = 1;
    const std::string name = "figures/" + key.first + "_" + safe(key.second) + "_bits.png";
    train::write_line_plot(out_dir + "/" + name, plot, curves);
    written.push_back(name);
  }
  return written;
}

}  // namespace torus::sweep
