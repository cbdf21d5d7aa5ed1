#include "train/plot/canvas.hpp"

#include "nn/io/atomic_file.hpp"
#include "train/utf8.hpp"

#include <cairo-svg.h>
#include <cairo.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace torus::train::plot {

namespace {
constexpr const char* kFont = "DejaVu Sans";

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string xml_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void check(cairo_status_t status, const std::string& what) {
  if (status != CAIRO_STATUS_SUCCESS) throw std::runtime_error(what + ": " + cairo_status_to_string(status));
}

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

// One rendering onto `surface`; returns the SVG <text> elements when `svg_text`.
std::string render(cairo_surface_t* surface, bool svg_text, int width, int height,
                   const std::function<void(Canvas&)>& draw, const std::string& what) {
  Context cr(cairo_create(surface), &cairo_destroy);
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_rectangle(cr.get(), 0, 0, width, height);
  cairo_fill(cr.get());
  Canvas canvas(cr.get(), svg_text);
  draw(canvas);
  check(cairo_status(cr.get()), what);
  return canvas.svg_text();
}
}  // namespace

void Canvas::select_font(double size, bool bold) const {
  cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
}

double Canvas::text_width(const std::string& s, double size, bool bold) const {
  select_font(size, bold);
  const std::string shown = displayable_utf8(s);
  cairo_text_extents_t e;
  cairo_text_extents(cr_, shown.c_str(), &e);
  return e.x_advance;
}

std::string Canvas::fit_text(const std::string& s, double size, double width, bool bold) const {
  const std::string shown = displayable_utf8(s);
  if (text_width(shown, size, bold) <= width) return shown;
  std::string cut;
  for (size_t i = 0; i < shown.size();) {
    const size_t n = utf8_sequence_length(shown, i);  // never 0: shown is valid UTF-8
    if (text_width(shown.substr(0, i + n) + "\u2026", size, bold) > width) break;
    i += n;
    cut = shown.substr(0, i);
  }
  return cut + "\u2026";
}

void Canvas::text(double x, double y, const std::string& s, double size, Anchor anchor, double degrees, bool bold,
                  Rgb colour) {
  const std::string shown = displayable_utf8(s);
  if (svg_text_) {
    // The width Cairo measures decides the layout; text-anchor keeps it right in a viewer whose
    // DejaVu Sans metrics differ slightly.
    char head[256];
    std::snprintf(head, sizeof head,
                  "<text x=\"%.2f\" y=\"%.2f\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"%.1f\"%s "
                  "text-anchor=\"%s\" fill=\"rgb(%d,%d,%d)\"",
                  x, y, size, bold ? " font-weight=\"bold\"" : "",
                  anchor == Anchor::start ? "start" : anchor == Anchor::middle ? "middle" : "end",
                  int(std::lround(colour.r * 255)), int(std::lround(colour.g * 255)), int(std::lround(colour.b * 255)));
    svg_text_elements_ += head;
    if (degrees != 0) {
      char rotate[96];
      std::snprintf(rotate, sizeof rotate, " transform=\"rotate(%.1f %.2f %.2f)\"", -degrees, x, y);
      svg_text_elements_ += rotate;
    }
    svg_text_elements_ += '>';
    svg_text_elements_ += xml_escaped(shown);
    svg_text_elements_ += "</text>\n";
    return;
  }
  const double w = text_width(shown, size, bold);
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  cairo_rotate(cr_, -degrees * M_PI / 180);
  cairo_move_to(cr_, anchor == Anchor::start ? 0 : anchor == Anchor::middle ? -w / 2 : -w, 0);
  cairo_set_source_rgb(cr_, colour.r, colour.g, colour.b);
  cairo_show_text(cr_, shown.c_str());
  cairo_restore(cr_);
}

void Canvas::line(double x0, double y0, double x1, double y1, double width, Rgb colour, bool dashed) {
  cairo_save(cr_);
  if (dashed) {
    const double dash[] = {6, 5};
    cairo_set_dash(cr_, dash, 2, 0);
  }
  cairo_set_line_width(cr_, width);
  cairo_set_source_rgb(cr_, colour.r, colour.g, colour.b);
  cairo_move_to(cr_, x0, y0);
  cairo_line_to(cr_, x1, y1);
  cairo_stroke(cr_);
  cairo_restore(cr_);
}

void Canvas::fill_rect(double x, double y, double w, double h, Rgb colour) {
  cairo_set_source_rgb(cr_, colour.r, colour.g, colour.b);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_fill(cr_);
}

void Canvas::stroke_rect(double x, double y, double w, double h, double width, Rgb colour) {
  cairo_set_line_width(cr_, width);
  cairo_set_source_rgb(cr_, colour.r, colour.g, colour.b);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_stroke(cr_);
}

std::string svg_path_beside(const std::string& png_path) {
  const std::string ext = ".png";
  if (png_path.size() <= ext.size() || png_path.compare(png_path.size() - ext.size(), ext.size(), ext) != 0)
    throw std::invalid_argument(png_path + ": a plot's file name must end in .png (its SVG is written beside it)");
  return png_path.substr(0, png_path.size() - ext.size()) + ".svg";
}

void write_png_and_svg(const std::string& png_path, int width, int height, const std::function<void(Canvas&)>& draw) {
  const std::string svg_path = svg_path_beside(png_path);
  // Both encoded before either is written: a drawing error leaves neither file changed.
  std::string png;
  {
    Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height), &cairo_surface_destroy);
    check(cairo_surface_status(surface.get()), png_path);
    render(surface.get(), false, width, height, draw, png_path);
    check(cairo_surface_write_to_png_stream(surface.get(), append_to_string, &png), png_path);
  }
  std::string svg;
  {
    Surface surface(cairo_svg_surface_create_for_stream(append_to_string, &svg, width, height), &cairo_surface_destroy);
    check(cairo_surface_status(surface.get()), svg_path);
    // Sizes in pixels, as the PNG's: a paper scales the SVG itself.
    cairo_svg_surface_set_document_unit(surface.get(), CAIRO_SVG_UNIT_PX);
    const std::string text = render(surface.get(), true, width, height, draw, svg_path);
    cairo_surface_finish(surface.get());
    check(cairo_surface_status(surface.get()), svg_path);
    const size_t end = svg.rfind("</svg>");
    if (end == std::string::npos) throw std::runtime_error(svg_path + ": Cairo wrote no </svg>");
    svg.insert(end, text);
  }
  nn::io::write_file_atomic(png_path, png);
  nn::io::write_file_atomic(svg_path, svg);
}

}  // namespace torus::train::plot
