// Separable resampling: per-axis tap lists (index, weight) computed once, applied to rows then
// columns. Weights are computed in double and stored as float.
#include "datasets/resize.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace torus::datasets {

namespace {
// The input taps of every output position along one axis: output o reads
// index[first[o] .. first[o + 1]) with the matching weights (summing to 1).
struct Taps {
  std::vector<int> first, index;
  std::vector<float> weight;
};

Taps axis_taps(int in, int out) {
  Taps t;
  t.first.push_back(0);
  if (in == out) {
    for (int o = 0; o < out; ++o) {
      t.index.push_back(o);
      t.weight.push_back(1.0f);
      t.first.push_back(int(t.index.size()));
    }
  } else if (out < in) {
    // Output o covers the input interval [o * s, (o + 1) * s); each input pixel weighs its overlap.
    const double s = double(in) / out;
    for (int o = 0; o < out; ++o) {
      const double lo = o * s, hi = std::min<double>(in, (o + 1) * s);
      for (int i = int(std::floor(lo)); i < in && i < hi; ++i) {
        const double overlap = std::min<double>(i + 1, hi) - std::max<double>(i, lo);
        if (overlap <= 1e-12) continue;
        t.index.push_back(i);
        t.weight.push_back(float(overlap / s));
      }
      t.first.push_back(int(t.index.size()));
    }
  } else {
    // Pixel centres: output o sits at input coordinate (o + 0.5) * in / out - 0.5.
    const double s = double(in) / out;
    for (int o = 0; o < out; ++o) {
      const double x = std::clamp((o + 0.5) * s - 0.5, 0.0, double(in - 1));
      const int i0 = int(std::floor(x)), i1 = std::min(i0 + 1, in - 1);
      const float f = float(x - i0);
      t.index.push_back(i0);
      t.weight.push_back(1.0f - f);
      if (i1 != i0) {
        t.index.push_back(i1);
        t.weight.push_back(f);
      }
      t.first.push_back(int(t.index.size()));
    }
  }
  return t;
}
}  // namespace

void resize_planes(const float* src, int channels, int in_h, int in_w, float* dst, int out_h, int out_w) {
  if (channels < 1 || in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1) {
    throw std::invalid_argument("resize_planes: sizes must be >= 1, got channels " + std::to_string(channels) + ", " +
                                std::to_string(in_h) + "x" + std::to_string(in_w) + " -> " + std::to_string(out_h) +
                                "x" + std::to_string(out_w));
  }
  const Taps tx = axis_taps(in_w, out_w), ty = axis_taps(in_h, out_h);
  std::vector<float> rows(size_t(in_h) * out_w);  // one channel resampled along x: (in_h, out_w)
  for (int c = 0; c < channels; ++c) {
    const float* plane = src + size_t(c) * in_h * in_w;
    for (int y = 0; y < in_h; ++y)
      for (int o = 0; o < out_w; ++o) {
        float acc = 0.0f;
        for (int k = tx.first[o]; k < tx.first[o + 1]; ++k) acc += tx.weight[k] * plane[size_t(y) * in_w + tx.index[k]];
        rows[size_t(y) * out_w + o] = acc;
      }
    float* out = dst + size_t(c) * out_h * out_w;
    for (int o = 0; o < out_h; ++o)
      for (int x = 0; x < out_w; ++x) {
        float acc = 0.0f;
        for (int k = ty.first[o]; k < ty.first[o + 1]; ++k) acc += ty.weight[k] * rows[size_t(ty.index[k]) * out_w + x];
        out[size_t(o) * out_w + x] = acc;
      }
  }
}

}  // namespace torus::datasets
