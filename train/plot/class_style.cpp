#include "train/plot/class_style.hpp"

#include <cairo.h>

#include <cmath>

namespace torus::train::plot {

namespace {
// Matplotlib's tab10 (Vega's category10): distinct from each other and readable on white.
constexpr Rgb kPalette[kColours] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                                    {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                                    {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
                                    {0.090, 0.745, 0.812}};

// A regular polygon (or star, with `inner` < 1) of n points, one pointing at `start_degrees`.
void polygon(cairo_t* cr, double x, double y, double r, int n, double start_degrees, double inner = 1) {
  const int points = inner < 1 ? 2 * n : n;
  for (int i = 0; i < points; ++i) {
    const double a = (start_degrees + 360.0 * i / points) * M_PI / 180;
    const double radius = inner < 1 && i % 2 == 1 ? r * inner : r;
    const double px = x + radius * std::cos(a), py = y - radius * std::sin(a);
    if (i == 0) cairo_move_to(cr, px, py);
    else cairo_line_to(cr, px, py);
  }
  cairo_close_path(cr);
}
}  // namespace

ClassStyle class_style(int k) {
  const int i = k < 0 ? 0 : k % (kColours * kMarkers);
  return {kPalette[i % kColours], static_cast<Marker>(i / kColours)};
}

void draw_marker(Canvas& c, double x, double y, double r, const ClassStyle& style) {
  cairo_t* cr = c.cairo();
  cairo_save(cr);
  cairo_set_source_rgb(cr, style.colour.r, style.colour.g, style.colour.b);
  switch (style.marker) {
    case Marker::circle: cairo_arc(cr, x, y, r, 0, 2 * M_PI); break;
    case Marker::square: cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7); break;
    case Marker::triangle_up: polygon(cr, x, y, r * 1.15, 3, 90); break;
    case Marker::diamond: polygon(cr, x, y, r * 1.15, 4, 90); break;
    case Marker::triangle_down: polygon(cr, x, y, r * 1.15, 3, 270); break;
    case Marker::pentagon: polygon(cr, x, y, r * 1.05, 5, 90); break;
    case Marker::star: polygon(cr, x, y, r * 1.3, 5, 90, 0.45); break;
    case Marker::hexagon: polygon(cr, x, y, r * 1.05, 6, 0); break;
    case Marker::plus:
    case Marker::cross: {
      const double a = style.marker == Marker::plus ? 0 : M_PI / 4, d = r * 1.2;
      cairo_set_line_width(cr, std::max(1.2, r * 0.55));
      for (double t : {a, a + M_PI / 2}) {
        cairo_move_to(cr, x - d * std::cos(t), y - d * std::sin(t));
        cairo_line_to(cr, x + d * std::cos(t), y + d * std::sin(t));
      }
      cairo_stroke(cr);
      cairo_restore(cr);
      return;
    }
  }
  cairo_fill(cr);
  cairo_restore(cr);
}

}  // namespace torus::train::plot
