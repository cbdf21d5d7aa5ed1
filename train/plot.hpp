// The PNG plots of a run folder: curves over epochs (loss, precision@1) and a scatter of the
// embeddings on the flat square torus. Drawn on a small RGB canvas of our own, labelled with
// stb_easy_font and encoded with stb_image_write, so plotting needs nothing beyond stb. Files are
// written atomically, like everything else in a run folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torus::train {

struct Curve {
  std::string name;  // shown in the legend
  std::vector<double> x, y;
};

// Line plot of one or more curves sharing the axes; non-finite points are skipped.
void write_line_plot(const std::string& path, const std::string& title, const std::string& x_label,
                     const std::vector<Curve>& curves);

// Points (x, y) in [0, 1)^2 on the unit square whose opposite sides are glued (the flat torus),
// one colour per label; `class_names` (optional) label the legend.
void write_torus_scatter(const std::string& path, const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<float>& x, const std::vector<float>& y,
                         const std::vector<int>& labels, const std::vector<std::string>& class_names = {});

}  // namespace torus::train
