// The building blocks of augment_image on float (C, H, W) images in [0, 1]; colour maths follows
// torchvision.transforms.functional_tensor.
#include "datasets/augment_ops.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace torus::datasets {

namespace {
float clamp01(float v) { return std::min(1.0f, std::max(0.0f, v)); }

float luma(float r, float g, float b) { return kLumaR * r + kLumaG * g + kLumaB * b; }
}  // namespace

void hflip_planes(float* img, int channels, int height, int width) {
  for (int r = 0; r < channels * height; ++r) std::reverse(img + size_t(r) * width, img + size_t(r + 1) * width);
}

void shift_planes(const float* src, int channels, int height, int width, int dy, int dx, float* dst) {
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        const int sy = y + dy, sx = x + dx;
        const bool inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        dst[(size_t(c) * height + y) * width + x] = inside ? src[(size_t(c) * height + sy) * width + sx] : 0.0f;
      }
}

void rotate_planes(const float* src, int channels, int height, int width, double degrees, float* dst) {
  // Inverse mapping: the output pixel at offset (dx, dy) from the centre shows the input at
  // (cos a dx - sin a dy, sin a dx + cos a dy); with y pointing down, that turns the picture
  // counter-clockwise by a.
  const double a = degrees * std::numbers::pi / 180.0, cs = std::cos(a), sn = std::sin(a);
  const double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
  const auto at = [&](const float* plane, int y, int x) {
    return (y >= 0 && y < height && x >= 0 && x < width) ? plane[size_t(y) * width + x] : 0.0f;
  };
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double dx = x - cx, dy = y - cy;
      const double sx = cs * dx - sn * dy + cx, sy = sn * dx + cs * dy + cy;
      const double fx0 = std::floor(sx), fy0 = std::floor(sy);
      // Whole pixels away from the image: nothing to interpolate (and no int overflow).
      if (fx0 < -1 || fx0 > width || fy0 < -1 || fy0 > height) {
        for (int c = 0; c < channels; ++c) dst[(size_t(c) * height + y) * width + x] = 0.0f;
        continue;
      }
      const int x0 = int(fx0), y0 = int(fy0);
      const float wx = float(sx - fx0), wy = float(sy - fy0);
      for (int c = 0; c < channels; ++c) {
        const float* plane = src + size_t(c) * height * width;
        const float top = (1 - wx) * at(plane, y0, x0) + wx * at(plane, y0, x0 + 1);
        const float bottom = (1 - wx) * at(plane, y0 + 1, x0) + wx * at(plane, y0 + 1, x0 + 1);
        dst[(size_t(c) * height + y) * width + x] = (1 - wy) * top + wy * bottom;
      }
    }
}

void adjust_brightness(float* img, int channels, int height, int width, float factor) {
  const size_t n = size_t(channels) * height * width;
  for (size_t i = 0; i < n; ++i) img[i] = clamp01(img[i] * factor);
}

void adjust_contrast(float* img, int channels, int height, int width, float factor) {
  const size_t plane = size_t(height) * width;
  double sum = 0;  // of the grey image, as torchvision's adjust_contrast
  for (size_t p = 0; p < plane; ++p)
    sum += channels == 3 ? luma(img[p], img[plane + p], img[2 * plane + p]) : img[p];
  const float mean = float(sum / double(plane));
  for (size_t i = 0; i < plane * channels; ++i) img[i] = clamp01(mean + factor * (img[i] - mean));
}

void adjust_saturation(float* rgb, int height, int width, float factor) {
  const size_t plane = size_t(height) * width;
  for (size_t p = 0; p < plane; ++p) {
    const float grey = luma(rgb[p], rgb[plane + p], rgb[2 * plane + p]);
    for (int c = 0; c < 3; ++c) rgb[c * plane + p] = clamp01(grey + factor * (rgb[c * plane + p] - grey));
  }
}

void adjust_hue(float* rgb, int height, int width, float shift) {
  // RGB -> HSV -> RGB as torchvision's _rgb2hsv / _hsv2rgb.
  const size_t plane = size_t(height) * width;
  for (size_t p = 0; p < plane; ++p) {
    const float r = rgb[p], g = rgb[plane + p], b = rgb[2 * plane + p];
    const float maxc = std::max({r, g, b}), minc = std::min({r, g, b});
    const float chroma = maxc - minc;
    if (chroma <= 0.0f) continue;  // grey: hue undefined, the pixel does not change
    const float s = chroma / maxc, v = maxc;
    const float rc = (maxc - r) / chroma, gc = (maxc - g) / chroma, bc = (maxc - b) / chroma;
    float h = maxc == r ? bc - gc : maxc == g ? 2.0f + rc - bc : 4.0f + gc - rc;
    h = h / 6.0f + shift;
    h -= std::floor(h);  // mod 1, also for negative values
    const float h6 = h * 6.0f;
    const int sector = int(std::floor(h6)) % 6;
    const float f = h6 - std::floor(h6);
    const float pp = clamp01(v * (1 - s)), q = clamp01(v * (1 - s * f)), t = clamp01(v * (1 - s * (1 - f)));
    float out[3];
    switch (sector) {
      case 0: out[0] = v, out[1] = t, out[2] = pp; break;
      case 1: out[0] = q, out[1] = v, out[2] = pp; break;
      case 2: out[0] = pp, out[1] = v, out[2] = t; break;
      case 3: out[0] = pp, out[1] = q, out[2] = v; break;
      case 4: out[0] = t, out[1] = pp, out[2] = v; break;
      default: out[0] = v, out[1] = pp, out[2] = q; break;
    }
    for (int c = 0; c < 3; ++c) rgb[c * plane + p] = clamp01(out[c]);
  }
}

void to_greyscale(float* rgb, int height, int width) {
  const size_t plane = size_t(height) * width;
  for (size_t p = 0; p < plane; ++p) {
    const float grey = luma(rgb[p], rgb[plane + p], rgb[2 * plane + p]);
    rgb[p] = rgb[plane + p] = rgb[2 * plane + p] = grey;
  }
}

}  // namespace torus::datasets
