#include "nn/im2col.hpp"

#include <algorithm>

namespace torus::nn {

namespace {
// The output columns ox whose input column ox stride - padding + offset lies inside [0, W).
void valid_columns(const ConvShape& s, int64_t offset, int64_t& lo, int64_t& hi) {
  const int64_t first = s.padding - offset;  // smallest ox stride that lands on column 0
  lo = first <= 0 ? 0 : (first + s.stride - 1) / s.stride;
  const int64_t last = s.W - 1 + s.padding - offset;  // largest ox stride that lands inside
  hi = last < 0 ? 0 : std::min(s.Wo, last / s.stride + 1);
  if (hi < lo) hi = lo;
}

// A "same" stride-1 convolution (Wo == W): output pixel f = oy W + ox of cols row (c, i, j) reads
// input pixel f + shift with one shift for the whole row, so the row is a single contiguous copy
// of the plane (instead of Ho runs of Wo, each a call to memmove), after which the few columns
// that wrapped into a neighbouring image row are set to zero. Dilation does not break this.
bool shifted_rows(const ConvShape& s) { return s.stride == 1 && s.Wo == s.W; }

// For row (i, j) of a shifted_rows convolution: the flat shift, the output range [f0, f1) whose
// input pixel lies inside the plane, and the output columns [x0, x1) that do not wrap.
struct RowShift {
  int64_t shift, f0, f1, x0, x1;
};
RowShift row_shift(const ConvShape& s, int64_t i, int64_t j) {
  const int64_t dy = i * s.dilation - s.padding, dx = j * s.dilation - s.padding;
  const int64_t shift = dy * s.W + dx;
  const int64_t oy0 = std::clamp<int64_t>(-dy, 0, s.Ho), oy1 = std::clamp<int64_t>(s.H - dy, oy0, s.Ho);
  const int64_t f0 = std::min(std::max(oy0 * s.W, -shift), s.Ho * s.W);
  const int64_t f1 = std::max(f0, std::min(oy1 * s.W, s.H * s.W - shift));
  return {shift, f0, f1, std::clamp<int64_t>(-dx, 0, s.W), std::clamp<int64_t>(s.W - dx, 0, s.W)};
}

// Zeroes the columns of one cols row that lie outside [x0, x1) (the wrapped reads): a column at
// a time, as one or two columns are typical and per-line fills would be calls of a few bytes.
template <typename T>
void zero_wrapped_columns(T* row, const ConvShape s, const RowShift r) {
  auto zero_column = [&](int64_t x) {
    for (int64_t oy = 0; oy < s.Ho; ++oy) row[oy * s.W + x] = T(0);
  };
  for (int64_t x = 0; x < r.x0; ++x) zero_column(x);
  for (int64_t x = r.x1; x < s.W; ++x) zero_column(x);
}

}  // namespace

// Outside shifted_rows, the valid range of each row is found once, so the copy is a contiguous
// run for stride 1 instead of a bounds test per element.
template <typename T>
void im2col(T* cols, const T* image, const ConvShape s) {
  for (int64_t r = 0; r < s.patch(); ++r) {
    const int64_t c = r / (s.kh * s.kw), i = (r / s.kw) % s.kh, j = r % s.kw;
    const T* plane = image + c * s.H * s.W;
    T* row = cols + r * s.pixels();
    if (shifted_rows(s)) {
      const RowShift rs = row_shift(s, i, j);
      std::fill(row, row + rs.f0, T(0));
      std::copy(plane + rs.f0 + rs.shift, plane + rs.f1 + rs.shift, row + rs.f0);
      std::fill(row + rs.f1, row + s.pixels(), T(0));
      zero_wrapped_columns(row, s, rs);
      continue;
    }
    int64_t lo, hi;
    valid_columns(s, j * s.dilation, lo, hi);
    for (int64_t oy = 0; oy < s.Ho; ++oy) {
      const int64_t y = oy * s.stride - s.padding + i * s.dilation;
      T* dst = row + oy * s.Wo;
      if (y < 0 || y >= s.H) {
        std::fill(dst, dst + s.Wo, T(0));
        continue;
      }
      std::fill(dst, dst + lo, T(0));
      std::fill(dst + hi, dst + s.Wo, T(0));
      const T* src = plane + y * s.W - s.padding + j * s.dilation;
      if (s.stride == 1) std::copy(src + lo, src + hi, dst + lo);
      else
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * s.stride];
    }
  }
}

// The shifted_rows path first zeroes the wrapped columns of dcols (scratch the caller rewrites per
// image), so each row is one contiguous add.
template <typename T>
void col2im_add(T* dimage, T* dcols, const ConvShape s) {
  for (int64_t r = 0; r < s.patch(); ++r) {
    const int64_t c = r / (s.kh * s.kw), i = (r / s.kw) % s.kh, j = r % s.kw;
    T* row = dcols + r * s.pixels();
    T* plane = dimage + c * s.H * s.W;
    if (shifted_rows(s)) {
      const RowShift rs = row_shift(s, i, j);
      zero_wrapped_columns(row, s, rs);
      T* dst = plane + rs.f0 + rs.shift;
      const T* src = row + rs.f0;
      for (int64_t f = 0; f < rs.f1 - rs.f0; ++f) dst[f] += src[f];
      continue;
    }
    int64_t lo, hi;
    valid_columns(s, j * s.dilation, lo, hi);
    for (int64_t oy = 0; oy < s.Ho; ++oy) {
      const int64_t y = oy * s.stride - s.padding + i * s.dilation;
      if (y < 0 || y >= s.H) continue;
      T* dst = plane + y * s.W - s.padding + j * s.dilation;
      const T* src = row + oy * s.Wo;
      if (s.stride == 1)
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += src[ox];
      else
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox * s.stride] += src[ox];
    }
  }
}

template void im2col(float*, const float*, ConvShape);
template void im2col(double*, const double*, ConvShape);
template void col2im_add(float*, float*, ConvShape);
template void col2im_add(double*, double*, ConvShape);

}  // namespace torus::nn
