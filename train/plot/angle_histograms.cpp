// write_angle_histograms: one panel per circle of a torus embedding, a histogram of its angles.
#include "train/plot.hpp"

#include "geometry/circular_stats.hpp"
#include "train/plot/axes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace torus::train {

using namespace plot;

void write_angle_histograms(const std::string& png_path, const std::string& title,
                            const geometry::RowMatrix<float>& angles) {
  constexpr int kBins = 24;
  const int K = int(angles.cols());
  const Eigen::Index N = angles.rows();
  // Shares of the samples per bin, per circle; non-finite angles are left out of the counts.
  std::vector<std::vector<double>> share(size_t(K), std::vector<double>(kBins, 0.0));
  double top_share = 0;
  for (int k = 0; k < K; ++k) {
    int64_t finite = 0;
    for (Eigen::Index n = 0; n < N; ++n) {
      const double u = angles(n, k);
      if (!std::isfinite(u)) continue;
      ++finite;
      share[size_t(k)][size_t(std::min(kBins - 1, int((u - std::floor(u)) * kBins)))] += 1;
    }
    for (double& s : share[size_t(k)]) top_share = std::max(top_share, s /= double(std::max<int64_t>(finite, 1)));
  }
  const geometry::ArrayX<float> R =
      N > 0 && K > 0 ? geometry::mean_resultant_length<float>(angles) : geometry::ArrayX<float>(K);

  const int cols = std::max(1, int(std::ceil(std::sqrt(double(K))))), rows = std::max(1, (K + cols - 1) / cols);
  constexpr double kPanelW = 200, kPanelH = 130, kGapX = 54, kGapY = 62, kLeft = 96, kTop = 64;
  // At least wide enough for the title when there are only a circle or two.
  const int width = std::max(640, int(kLeft + cols * (kPanelW + kGapX) + 10)), height = int(kTop + rows * (kPanelH + kGapY) - kGapY + 56);
  double y0 = 0, y1 = top_share > 0 ? top_share : 1;
  const double y_step = widen_to_ticks(y0, y1, 3);
  const std::vector<double> y_ticks = ticks_every(y0, y1, y_step), x_ticks = {0, 0.5, 1};
  y1 += 0.03 * (y1 - y0);  // the tallest bar clear of the frame

  write_png_and_svg(png_path, width, height, [&](Canvas& c) {
    c.text(width / 2.0, 30, c.fit_text(title, 17, width - 40, true), 17, Anchor::middle, 0, true);
    if (K == 0) c.text(width / 2.0, height / 2.0, "no circles", 14, Anchor::middle, 0, false, kGrey);
    for (int k = 0; k < K; ++k) {
      const double left = kLeft + (k % cols) * (kPanelW + kGapX), top = kTop + (k / cols) * (kPanelH + kGapY);
      const Axes a{left, top, left + kPanelW, top + kPanelH, 0, 1, y0, y1};
      // Axis words once per figure, under the bottom row and beside the left column; every panel
      // keeps its tick labels.
      const bool bottom_row = k / cols == rows - 1 || k + cols >= K, left_column = k % cols == 0;
      draw_axes(c, a, x_ticks, y_ticks, bottom_row ? "angle (turns)" : "", left_column ? "share of samples" : "", 11);
      for (int b = 0; b < kBins; ++b) {
        const double X0 = a.px(double(b) / kBins), X1 = a.px(double(b + 1) / kBins), Y = a.py(share[size_t(k)][size_t(b)]);
        c.fill_rect(X0 + 0.5, Y, X1 - X0 - 1, a.bottom - Y, Rgb{0.122, 0.467, 0.706});
      }
      char label[64];
      std::snprintf(label, sizeof label, "circle %d   R = %.2f", k, double(R[k]));
      c.text((a.left + a.right) / 2, top - 7, label, 12, Anchor::middle);
    }
  });
}

}  // namespace torus::train
