// The drawing surface under every plot: Cairo, rendered twice from one drawing function, once to
// a PNG (a quick look) and once to an SVG beside it (for papers), each encoded in memory and then
// written atomically, so a run killed mid-plot never leaves half a file. Text is DejaVu Sans by
// Cairo's toy API (no display needed); in the SVG it is written as <text> elements rather than
// glyph outlines, so a paper's editor can still change it and it stays searchable. Every string
// drawn is user data first passed through displayable_utf8.
#pragma once

#include <functional>
#include <string>

typedef struct _cairo cairo_t;

namespace torus::train::plot {

struct Rgb {
  double r = 0, g = 0, b = 0;
};
inline constexpr Rgb kBlack{0, 0, 0}, kGrey{0.45, 0.45, 0.45}, kGrid{0.9, 0.9, 0.9}, kWhite{1, 1, 1};

enum class Anchor { start, middle, end };  // where x falls in the text's width

class Canvas {
 public:
  Canvas(cairo_t* cr, bool svg_text) : cr_(cr), svg_text_(svg_text) {}
  cairo_t* cairo() const { return cr_; }

  // Text whose baseline passes through (x, y), rotated by `degrees` counter-clockwise about it.
  void text(double x, double y, const std::string& s, double size, Anchor anchor = Anchor::start,
            double degrees = 0, bool bold = false, Rgb colour = kBlack);
  double text_width(const std::string& s, double size, bool bold = false) const;
  // The longest prefix of `s` (whole code points) that fits in `width`, with "…" when cut.
  std::string fit_text(const std::string& s, double size, double width, bool bold = false) const;

  void line(double x0, double y0, double x1, double y1, double width, Rgb colour, bool dashed = false);
  void fill_rect(double x, double y, double w, double h, Rgb colour);
  void stroke_rect(double x, double y, double w, double h, double width, Rgb colour);

  // The <text> elements an SVG rendering collected, appended after Cairo's drawing.
  const std::string& svg_text() const { return svg_text_elements_; }

 private:
  void select_font(double size, bool bold) const;
  cairo_t* cr_;
  bool svg_text_;
  std::string svg_text_elements_;
};

// Draws `draw` onto a white width x height canvas and writes `png_path` and, beside it, the same
// picture as SVG (png_path with ".svg" for ".png"). png_path must end in ".png".
void write_png_and_svg(const std::string& png_path, int width, int height, const std::function<void(Canvas&)>& draw);

// png_path with its ".png" replaced by ".svg"; throws std::invalid_argument for another ending.
std::string svg_path_beside(const std::string& png_path);

}  // namespace torus::train::plot
