#include "train/plot.hpp"

#include "nn/io/atomic_file.hpp"
#include "train/utf8.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb_easy_font.h>
// Static: stb_image_write stays private to this file, so no other object that brings its own
// copy can clash with ours at link time.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace torus::train {

namespace {
using Rgb = std::array<uint8_t, 3>;

// Matplotlib's tab10 and the lighter half of tab20: distinct, and readable on white.
constexpr Rgb kPalette[20] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},   {148, 103, 189},
                              {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
                              {174, 199, 232}, {255, 187, 120}, {152, 223, 138}, {255, 152, 150}, {197, 176, 213},
                              {196, 156, 148}, {247, 182, 210}, {199, 199, 199}, {219, 219, 141}, {158, 218, 229}};
constexpr Rgb kBlack{0, 0, 0}, kGrid{225, 225, 225};

// stb_easy_font has glyphs for printable ASCII only and indexes its table with the (signed) char:
// class names are user data, so each UTF-8 code point outside 32..126 (and each byte that is not
// valid UTF-8) is drawn as one '?', which also keeps the text's width one glyph per character.
std::string printable_ascii(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    out += b >= 32 && b <= 126 ? char(b) : '?';
    i += std::max<size_t>(1, utf8_sequence_length(s, i));  // an invalid byte is one '?' of its own
  }
  return out;
}

class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), px_(size_t(w) * h * 3, 255) {}
  int width() const { return w_; }
  int height() const { return h_; }

  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    std::copy(c.begin(), c.end(), px_.begin() + (size_t(y) * w_ + x) * 3);
  }
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
    for (int y = std::max(y0, 0); y < std::min(y1, h_); ++y)
      for (int x = std::max(x0, 0); x < std::min(x1, w_); ++x) set(x, y, c);
  }
  void disc(double cx, double cy, double r, Rgb c) {
    for (int y = int(std::floor(cy - r)); y <= int(std::ceil(cy + r)); ++y)
      for (int x = int(std::floor(cx - r)); x <= int(std::ceil(cx + r)); ++x)
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) set(x, y, c);
  }
  // A line of the given width, drawn as discs every half pixel: simple, and thick enough that the
  // missing anti-aliasing does not show at this size.
  void line(double x0, double y0, double x1, double y1, double width, Rgb c) {
    const int steps = std::max(1, int(std::hypot(x1 - x0, y1 - y0) * 2));
    for (int i = 0; i <= steps; ++i) {
      const double t = double(i) / steps;
      disc(x0 + t * (x1 - x0), y0 + t * (y1 - y0), width / 2, c);
    }
  }
  // Text with its top-left corner at (x, y), stb_easy_font's quads scaled by `scale`.
  void text(double x, double y, const std::string& s, Rgb c, int scale = 2) {
    std::string copy = printable_ascii(s);
    std::vector<char> buffer(copy.size() * 300 + 1000);
    const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, buffer.data(), int(buffer.size()));
    for (int q = 0; q < quads; ++q) {
      const float* v0 = reinterpret_cast<const float*>(buffer.data() + size_t(q) * 64);
      const float* v2 = reinterpret_cast<const float*>(buffer.data() + size_t(q) * 64 + 32);
      fill_rect(int(x + v0[0] * scale), int(y + v0[1] * scale), int(x + v2[0] * scale), int(y + v2[1] * scale), c);
    }
  }
  static int text_width(const std::string& s, int scale = 2) {
    std::string copy = printable_ascii(s);
    return stb_easy_font_width(copy.data()) * scale;
  }

  void write_png(const std::string& path) const {
    std::string bytes;
    auto append = [](void* context, void* data, int size) {
      static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
    };
    if (!stbi_write_png_to_func(append, &bytes, w_, h_, 3, px_.data(), w_ * 3))
      throw std::runtime_error(path + ": PNG encoding failed");
    nn::io::write_file_atomic(path, bytes);
  }

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

std::string tick_text(double v, double step) {
  char buf[32];
  int decimals = 0;  // the fewest that show every tick exactly (0.25 needs 2, 0.2 needs 1)
  while (decimals < 6 && std::fabs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6)
    ++decimals;
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A 1, 2 or 5 times a power of ten giving about `target` intervals over [lo, hi].
double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

struct Frame {
  int left, top, right, bottom;  // plot area in pixels
  double x0, x1, y0, y1;          // data range
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
};

void draw_axes(Canvas& c, const Frame& f, double x_step, double y_step, const std::string& title,
               const std::string& x_label, const std::string& y_label) {
  for (double x = std::ceil(f.x0 / x_step - 1e-9) * x_step; x <= f.x1 + 1e-9 * x_step; x += x_step) {
    const int X = int(std::lround(f.px(x)));
    c.fill_rect(X, f.top, X + 1, f.bottom, kGrid);
    const std::string t = tick_text(x, x_step);
    c.text(X - Canvas::text_width(t) / 2.0, f.bottom + 8, t, kBlack);
  }
  for (double y = std::ceil(f.y0 / y_step - 1e-9) * y_step; y <= f.y1 + 1e-9 * y_step; y += y_step) {
    const int Y = int(std::lround(f.py(y)));
    c.fill_rect(f.left, Y, f.right, Y + 1, kGrid);
    const std::string t = tick_text(y, y_step);
    c.text(f.left - 8 - Canvas::text_width(t), Y - 6, t, kBlack);
  }
  c.fill_rect(f.left, f.top, f.left + 2, f.bottom + 1, kBlack);
  c.fill_rect(f.left, f.bottom - 1, f.right + 1, f.bottom + 1, kBlack);
  c.text((f.left + f.right - Canvas::text_width(title)) / 2.0, 4, title, kBlack);
  c.text((f.left + f.right - Canvas::text_width(x_label)) / 2.0, f.bottom + 34, x_label, kBlack);
  if (!y_label.empty()) c.text(8, f.top - 20, y_label, kBlack);
}
}  // namespace

void write_line_plot(const std::string& path, const std::string& title, const std::string& x_label,
                     const std::vector<Curve>& curves) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Curve& cv : curves)
    for (size_t i = 0; i < std::min(cv.x.size(), cv.y.size()); ++i) {
      if (!std::isfinite(cv.x[i]) || !std::isfinite(cv.y[i])) continue;
      x0 = std::min(x0, cv.x[i]), x1 = std::max(x1, cv.x[i]);
      y0 = std::min(y0, cv.y[i]), y1 = std::max(y1, cv.y[i]);
    }
  if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // nothing finite to show: empty axes
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;
  const double x_step = std::max(nice_step(x0, x1, 8), std::abs(x1) > 1 ? 1.0 : 0.0);
  const double y_step = nice_step(y0, y1, 6);
  y0 = std::floor(y0 / y_step) * y_step, y1 = std::ceil(y1 / y_step) * y_step;

  Canvas canvas(800, 500);
  const Frame f{90, 50, 780, 430, x0, x1, y0, y1};
  draw_axes(canvas, f, x_step, y_step, title, x_label, "");
  for (size_t k = 0; k < curves.size(); ++k) {
    const Curve& cv = curves[k];
    const Rgb col = kPalette[k % 10];
    bool have_prev = false;
    double px = 0, py = 0;
    for (size_t i = 0; i < std::min(cv.x.size(), cv.y.size()); ++i) {
      if (!std::isfinite(cv.x[i]) || !std::isfinite(cv.y[i])) {
        have_prev = false;
        continue;
      }
      const double X = f.px(cv.x[i]), Y = f.py(cv.y[i]);
      if (have_prev) canvas.line(px, py, X, Y, 2.5, col);
      canvas.disc(X, Y, 3.5, col);
      px = X, py = Y, have_prev = true;
    }
    const int ly = f.top + 8 + int(k) * 22;
    canvas.fill_rect(f.right - 190, ly + 4, f.right - 165, ly + 8, col);
    canvas.text(f.right - 158, ly, cv.name, kBlack);
  }
  canvas.write_png(path);
}

void write_torus_scatter(const std::string& path, const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<float>& x, const std::vector<float>& y,
                         const std::vector<int>& labels, const std::vector<std::string>& class_names) {
  if (x.size() != y.size() || x.size() != labels.size())
    throw std::invalid_argument("write_torus_scatter: x, y and labels differ in length");
  Canvas canvas(860, 700);
  const Frame f{90, 50, 690, 650, 0.0, 1.0, 0.0, 1.0};
  draw_axes(canvas, f, 0.25, 0.25, title, x_label, y_label);
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    const double u = x[i] - std::floor(x[i]), v = y[i] - std::floor(y[i]);  // onto the square
    canvas.disc(f.px(u), f.py(v), 2.2, kPalette[std::max(labels[i], 0) % 20]);
  }
  // The glued sides: dashed opposite edges say "these meet".
  for (int t = f.top; t < f.bottom; t += 12) canvas.fill_rect(f.right - 1, t, f.right + 1, t + 6, kBlack);
  for (int t = f.left; t < f.right; t += 12) canvas.fill_rect(t, f.top - 1, t + 6, f.top + 1, kBlack);
  const int classes = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  for (int k = 0; k < std::min(classes, 30); ++k) {
    const int ly = f.top + k * 20;
    canvas.disc(f.right + 22, ly + 7, 5, kPalette[k % 20]);
    const std::string name = k < int(class_names.size()) ? class_names[size_t(k)] : "class " + std::to_string(k);
    canvas.text(f.right + 34, ly, name.substr(0, 16), kBlack);
  }
  canvas.write_png(path);
}

}  // namespace torus::train
