#include "train/sweep/grid_report.hpp"

#include "nn/io/atomic_file.hpp"
#include "train/sweep/failure_criteria.hpp"
#include "train/sweep/grid_figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

namespace torus::sweep {

namespace {
// A difference in precision@1 smaller than this is "about equal": two points, the spread the
// issue measured between seeds of one head on Fashion-MNIST.
constexpr double kEqualPrecision = 0.02;
// Circular variance lies in [0, 1]; heads differing by less than this spread their codes alike.
constexpr double kEqualCircularVariance = 0.05;
// "Beats": better by more than one point of precision@1.
constexpr double kBeats = 0.01;

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string f3(double v) { return fixed(v, 3); }

std::string signed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.3f", v);
  return buf;
}

// The settings that pair cells of different heads: everything but the head.
using Match = std::tuple<std::string, int64_t, double, int64_t>;  // group, D, KoLeo, seed
Match match_of(const GridSpec& g, const ResultRow& r) { return {figure_group(g, r), r.dim, r.koleo, r.seed}; }

struct Pairs {
  std::vector<double> diff_precision, diff_circvar;
  int wins = 0;  // first head better by more than kBeats
};

// Ok cells of head a against ok cells of head b on the same settings and mode.
Pairs pair_up(const GridSpec& g, const std::vector<ResultRow>& rows, const std::string& a, const std::string& b,
              const std::string& mode) {
  std::map<Match, const ResultRow*> of_b;
  for (const ResultRow& r : rows)
    if (r.head == b && r.mode == mode && r.ok()) of_b[match_of(g, r)] = &r;
  Pairs p;
  for (const ResultRow& r : rows) {
    if (r.head != a || r.mode != mode || !r.ok() || !r.precision_at_1) continue;
    const auto it = of_b.find(match_of(g, r));
    if (it == of_b.end() || !it->second->precision_at_1) continue;
    const double d = *r.precision_at_1 - *it->second->precision_at_1;
    p.diff_precision.push_back(d);
    p.wins += d > kBeats;
    if (r.circular_variance && it->second->circular_variance)
      p.diff_circvar.push_back(*r.circular_variance - *it->second->circular_variance);
  }
  return p;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / double(v.size());
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

// One row per cell: its float measure row ("none"), or its only row.
std::vector<const ResultRow*> cell_rows(const std::vector<ResultRow>& rows) {
  std::map<std::string, const ResultRow*> by_cell;
  for (const ResultRow& r : rows) {
    auto& slot = by_cell[r.cell];
    if (!slot || r.mode == "none") slot = &r;
  }
  std::vector<const ResultRow*> out;
  for (const ResultRow& r : rows)
    if (by_cell[r.cell] == &r) out.push_back(&r);
  return out;
}

std::string verdict(bool testable, bool supported) {
  return !testable ? "**not testable with this grid**" : supported ? "**supported**" : "**not supported**";
}
}  // namespace

void write_report(const std::string& out_dir, const GridSpec& grid, const std::vector<ResultRow>& rows,
                  const std::vector<std::string>& figures) {
  const std::vector<const ResultRow*> cells = cell_rows(rows);
  std::string md = "# torus-sweep report\n\nGrid `" + grid.path + "`: ";
  std::map<std::string, int> reasons;
  int failed = 0;
  for (const ResultRow* c : cells)
    if (!c->ok()) ++failed, ++reasons[c->reason];
  md += std::to_string(cells.size()) + " cells, " + std::to_string(cells.size() - failed) + " trained, " +
        std::to_string(failed) + " failed";
  if (failed) {
    md += " (";
    bool first = true;
    for (const auto& [reason, n] : reasons) md += (first ? "" : ", ") + std::to_string(n) + " " + reason, first = false;
    md += ")";
  }
  md += ". Axes: ";
  for (size_t a = 0; a < grid.axes.size(); ++a) {
    md += (a ? "; " : "") + std::string("`") + grid.axes[a].key + "` ";
    for (size_t v = 0; v < grid.axes[a].values.size(); ++v) md += (v ? ", " : "") + grid.axes[a].values[v];
  }
  md += grid.axes.empty() ? "none.\n" : ".\n";
  double train_seconds = 0;
  for (const ResultRow* c : cells) train_seconds += c->train_seconds;
  if (train_seconds > 0)
    md += "Training took " + fixed(train_seconds / 60, 1) + " minutes in all, " +
          fixed(train_seconds / double(cells.size()), 0) + " s per cell on average (metrics.csv).\n";
  md += "Tables: `results.csv`, `results.json` (every cell and quantisation mode). Failed cells stay in them with "
        "their reason and are drawn as crosses in the figures.\n\nFailure criteria: " + describe_thresholds() + ".\n";
  if (failed) {
    md += "\n## Failed cells\n\n| cell | reason | detail |\n|---|---|---|\n";
    for (const ResultRow* c : cells)
      if (!c->ok()) md += "| " + c->cell + " | " + c->reason + " | " + c->detail + " |\n";
  }

  md += "\n## The claims of method.md 11\n";
  std::set<std::string> heads, datasets;
  std::set<int64_t> dims;
  for (const ResultRow* c : cells) heads.insert(c->head), datasets.insert(c->dataset), dims.insert(c->dim);

  // 1. torusN ~ sphere in precision and circular variance.
  {
    const Pairs p = pair_up(grid, rows, "torusN", "sphere", "none");
    const bool testable = !p.diff_precision.empty();
    const bool supported = testable && std::fabs(mean(p.diff_precision)) <= kEqualPrecision &&
                           (p.diff_circvar.empty() || std::fabs(mean(p.diff_circvar)) <= kEqualCircularVariance);
    md += "\n1. *torusN is about as good as the sphere in precision and circular variance, on images and audio.* " +
          verdict(testable, supported);
    if (testable)
      md += ": over " + std::to_string(p.diff_precision.size()) + " pairs of trained cells with equal settings, torusN - sphere " +
            "precision@1 " + signed3(mean(p.diff_precision)) + " on average (largest " + f3(max_abs(p.diff_precision)) +
            "), circular variance " + (p.diff_circvar.empty() ? std::string("not measured") : signed3(mean(p.diff_circvar))) +
            " (about equal: within " + f3(kEqualPrecision) + " and " + f3(kEqualCircularVariance) + ")";
    else
      md += ": it needs torusN and sphere cells that trained on equal settings";
    md += datasets.count("audio-folder") ? "." : "; the grid has no sound data, so the audio half is untested.";
    md += "\n";
  }
  // 2. torusC is unstable at low D.
  {
    std::map<std::string, std::map<int64_t, std::pair<int, int>>> fails;  // head -> D -> (failed, cells)
    for (const ResultRow* c : cells) {
      auto& f = fails[c->head][c->dim];
      f.first += !c->ok(), f.second += 1;
    }
    const bool testable = fails.count("torusC") && fails["torusC"].size() >= 2;
    bool supported = false;
    std::string numbers;
    if (testable) {
      const auto& tc = fails["torusC"];
      const auto rate = [](const std::pair<int, int>& f) { return double(f.first) / double(f.second); };
      const int64_t lowest_d = tc.begin()->first;
      const double low = rate(tc.begin()->second), high = rate(tc.rbegin()->second);
      int other_failed = 0, other_cells = 0;
      for (const auto& [head, by_dim] : fails)
        if (const auto it = by_dim.find(lowest_d); head != "torusC" && it != by_dim.end())
          other_failed += it->second.first, other_cells += it->second.second;
      supported = low > high && (other_cells == 0 || low > double(other_failed) / other_cells);
      numbers = ": torusC failed in";
      for (const auto& [d, f] : tc) numbers += " " + std::to_string(f.first) + "/" + std::to_string(f.second) + " cells at D " + std::to_string(d) + ",";
      numbers += " the other heads in " + std::to_string(other_failed) + "/" + std::to_string(other_cells) + " at D " +
                 std::to_string(lowest_d);
    }
    md += "\n2. *torusC is unstable at low D.* " + verdict(testable, supported) +
          (testable ? numbers + " (supported: torusC fails more often at its lowest D than at its highest, and more often than the other heads there)"
                    : std::string(": it needs torusC cells at two or more D")) + ".\n";
  }
  // 3. quantised torusN stays strong at 8 bit and under PQ; sometimes better than the sphere at low bit rates.
  {
    std::map<std::string, std::vector<double>> drop;  // mode -> precision@1 lost against the float row
    std::map<std::string, double> float_of;
    for (const ResultRow& r : rows)
      if (r.head == "torusN" && r.ok() && r.mode == "none" && r.precision_at_1) float_of[r.cell] = *r.precision_at_1;
    for (const ResultRow& r : rows)
      if (r.head == "torusN" && r.ok() && r.mode != "none" && r.precision_at_1 && float_of.count(r.cell))
        drop[r.mode].push_back(float_of[r.cell] - *r.precision_at_1);
    const bool testable = drop.count("8bit") > 0;
    std::string numbers;
    bool strong = testable && mean(drop["8bit"]) <= kEqualPrecision;
    for (const char* mode : {"8bit", "pq8_2", "pq4_4", "pq8_1", "pq4_2"})
      if (drop.count(mode)) numbers += std::string(numbers.empty() ? "" : ", ") + mode + " " + signed3(-mean(drop[mode]));
    int low_rate_pairs = 0, low_rate_wins = 0;
    for (const char* mode : {"1bit", "pq8_1", "pq4_2", "pq8_2", "pq4_4"}) {
      const Pairs p = pair_up(grid, rows, "torusN", "sphere", mode);
      low_rate_pairs += int(p.diff_precision.size()), low_rate_wins += p.wins;
    }
    md += "\n3. *Quantised torusN stays strong at 8 bit and under PQ, sometimes better than the sphere at low bit rates.* ";
    md += low_rate_pairs == 0 && testable ? std::string(strong ? "**supported for the 8-bit and PQ half**" : "**not supported**") +
                                                " (the comparison with the sphere is not testable: no sphere cells)"
                                          : verdict(testable, strong && low_rate_wins > 0);
    if (testable)
      md += ": torusN's precision@1 against its float row, mean over trained cells: " + numbers + " (strong: 8 bit within " +
            f3(kEqualPrecision) + "); at 16 bits and below (1bit, pq) torusN beat the sphere by more than " + f3(kBeats) +
            " in " + std::to_string(low_rate_wins) + " of " + std::to_string(low_rate_pairs) + " paired cells and modes";
    else
      md += ": it needs trained torusN cells with torus-quant-eval's 8bit row";
    md += ".\n";
  }
  // 4. neither torus mode beats the sphere in general.
  {
    const Pairs n = pair_up(grid, rows, "torusN", "sphere", "none"), c = pair_up(grid, rows, "torusC", "sphere", "none");
    const size_t pairs = n.diff_precision.size() + c.diff_precision.size();
    const int wins = n.wins + c.wins;
    const bool testable = pairs > 0;
    md += "\n4. *Neither torus mode beats the sphere in general.* " + verdict(testable, testable && 2 * wins < int(pairs));
    if (testable)
      md += ": a torus head beat the sphere by more than " + f3(kBeats) + " precision@1 in " + std::to_string(wins) + " of " +
            std::to_string(pairs) + " paired cells (torusN " + std::to_string(n.wins) + "/" + std::to_string(n.diff_precision.size()) +
            ", torusC " + std::to_string(c.wins) + "/" + std::to_string(c.diff_precision.size()) +
            "; supported when fewer than half)";
    else
      md += ": it needs sphere and torus cells that trained on equal settings";
    md += ".\n";
  }
  // 5. the failed runs the paper's code lists: all torusC, none of torusN or sphere.
  {
    int torus_c_failed = 0, other_failed = 0, other_cells = 0;
    for (const ResultRow* c : cells) {
      if (c->head == "torusC") torus_c_failed += !c->ok();
      else if (c->head == "torusN" || c->head == "sphere") other_failed += !c->ok(), ++other_cells;
    }
    const bool testable = other_cells > 0;
    md += "\n5. *The runs that failed to train were all torusC (CIFAR-10 D16 KoLeo 0.1 and 1, D32 KoLeo 0.001; CIFAR-100 D16 "
          "and D32 KoLeo 1); no torusN or sphere run failed.* " +
          verdict(testable, testable && other_failed == 0) + (testable ? ": " + std::to_string(other_failed) + " of " +
                                                                             std::to_string(other_cells) + " torusN and sphere cells failed, " +
                                                                             std::to_string(torus_c_failed) + " torusC cells"
                                                                       : std::string(": the grid has no torusN or sphere cells"));
    md += datasets.count("cifar10") || datasets.count("cifar100") ? "" : "; the grid has no CIFAR data, so the listed cells themselves are not rerun";
    md += ".\n";
  }
  md += "\n## Figures\n\n";
  for (const std::string& f : figures) md += "- [`" + f + "`](" + f + ")\n";
  nn::io::write_file_atomic(out_dir + "/report.md", md);
}

}  // namespace torus::sweep
