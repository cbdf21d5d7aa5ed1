#include "nn/pool2d.hpp"

#include "autodiff/parallel.hpp"
#include "nn/pool_rows.hpp"

#include <algorithm>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace torus::nn {

namespace {
const OpName kMaxPool2d("max_pool2d", "nn");
const OpName kAvgPool2d("avg_pool2d", "nn");

// The op's state: planes = N C images of H x W pooled to Ho x Wo by k x k windows.
struct PoolShape {
  int64_t planes, H, W, Ho, Wo, k, stride;
};

PoolShape pool_shape(const Shape& s, int64_t kernel, int64_t stride, const char* op) {
  if (s.rank() != 4) throw ShapeError(std::string(op) + ": input must be (N, C, H, W), got " + s.str());
  if (stride == 0) stride = kernel;
  if (kernel < 1 || stride < 1 || kernel > s[2] || kernel > s[3]) {
    throw ShapeError(std::string(op) + ": window " + std::to_string(kernel) + " (stride " + std::to_string(stride) +
                     ") does not fit input " + s.str());
  }
  return {s[0] * s[1], s[2], s[3], (s[2] - kernel) / stride + 1, (s[3] - kernel) / stride + 1, kernel, stride};
}

// The 2x2 stride-2 window of every conv net here. Its rows are short (7 or 14 outputs), too short
// for the compiler's vectoriser, whose scalar remainder then branches on noise; so one output row
// is one or two masked AVX-512 steps where the target has them, and a plain loop otherwise. The
// rule is the generic loop's: the first maximum in row-major window order (0 1 / 2 3) wins, the
// offset stored as T.
template <typename T>
void pool_row_2x2_scalar(const T* top, const T* bottom, T* best_row, T* arg_row, int64_t Wo) {
  for (int64_t ox = 0; ox < Wo; ++ox) {
    T best = top[2 * ox], arg = T(0);
    const T candidates[3] = {top[2 * ox + 1], bottom[2 * ox], bottom[2 * ox + 1]};
    for (int c = 0; c < 3; ++c) {
      const bool better = candidates[c] > best;
      best = better ? candidates[c] : best;
      arg = better ? T(c + 1) : arg;
    }
    best_row[ox] = best;
    arg_row[ox] = arg;
  }
}

// The backward of one row: each window's four gradients, the pooled one at the winner and 0
// elsewhere, written (not added).
template <typename T>
void unpool_row_2x2_scalar(T* top, T* bottom, const T* d, const T* arg, int64_t Wo) {
  for (int64_t ox = 0; ox < Wo; ++ox) {
    top[2 * ox] = arg[ox] == T(0) ? d[ox] : T(0);
    top[2 * ox + 1] = arg[ox] == T(1) ? d[ox] : T(0);
    bottom[2 * ox] = arg[ox] == T(2) ? d[ox] : T(0);
    bottom[2 * ox + 1] = arg[ox] == T(3) ? d[ox] : T(0);
  }
}

#ifdef __AVX512F__
// 16 outputs per step: the 32 inputs of a row pair are split into even and odd columns by two
// permutes, and the tail is masked.
struct Lanes2x2 {
  __mmask16 out, in_lo, in_hi;
  explicit Lanes2x2(int64_t n) {  // n = outputs left in the row
    const int64_t m = std::min<int64_t>(n, 16), inputs = 2 * m;
    out = __mmask16((1u << m) - 1u);
    in_lo = __mmask16(inputs >= 16 ? 0xFFFFu : (1u << inputs) - 1u);
    in_hi = __mmask16(inputs <= 16 ? 0u : (1u << (inputs - 16)) - 1u);
  }
};

void pool_row_2x2_avx512(const float* top, const float* bottom, float* best_row, float* arg_row, int64_t Wo) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t ox = 0; ox < Wo; ox += 16) {
    const Lanes2x2 lanes(Wo - ox);
    const __m512 t0 = _mm512_maskz_loadu_ps(lanes.in_lo, top + 2 * ox), t1 = _mm512_maskz_loadu_ps(lanes.in_hi, top + 2 * ox + 16);
    const __m512 b0 = _mm512_maskz_loadu_ps(lanes.in_lo, bottom + 2 * ox), b1 = _mm512_maskz_loadu_ps(lanes.in_hi, bottom + 2 * ox + 16);
    const __m512 candidates[3] = {_mm512_permutex2var_ps(t0, odd, t1), _mm512_permutex2var_ps(b0, even, b1),
                                  _mm512_permutex2var_ps(b0, odd, b1)};
    __m512 best = _mm512_permutex2var_ps(t0, even, t1), arg = _mm512_setzero_ps();
    for (int c = 0; c < 3; ++c) {
      const __mmask16 better = _mm512_cmp_ps_mask(candidates[c], best, _CMP_GT_OQ);  // false on NaN, as '>'
      best = _mm512_mask_mov_ps(best, better, candidates[c]);
      arg = _mm512_mask_mov_ps(arg, better, _mm512_set1_ps(float(c + 1)));
    }
    _mm512_mask_storeu_ps(best_row + ox, lanes.out, best);
    _mm512_mask_storeu_ps(arg_row + ox, lanes.out, arg);
  }
}

void unpool_row_2x2_avx512(float* top, float* bottom, const float* d, const float* arg, int64_t Wo) {
  const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i high = _mm512_add_epi32(low, _mm512_set1_epi32(8));
  for (int64_t ox = 0; ox < Wo; ox += 16) {
    const Lanes2x2 lanes(Wo - ox);
    const __m512 g = _mm512_maskz_loadu_ps(lanes.out, d + ox), a = _mm512_maskz_loadu_ps(lanes.out, arg + ox);
    __m512 at[4];
    for (int c = 0; c < 4; ++c) at[c] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(float(c)), _CMP_EQ_OQ), g);
    _mm512_mask_storeu_ps(top + 2 * ox, lanes.in_lo, _mm512_permutex2var_ps(at[0], low, at[1]));
    _mm512_mask_storeu_ps(top + 2 * ox + 16, lanes.in_hi, _mm512_permutex2var_ps(at[0], high, at[1]));
    _mm512_mask_storeu_ps(bottom + 2 * ox, lanes.in_lo, _mm512_permutex2var_ps(at[2], low, at[3]));
    _mm512_mask_storeu_ps(bottom + 2 * ox + 16, lanes.in_hi, _mm512_permutex2var_ps(at[2], high, at[3]));
  }
}
#endif
}  // namespace

void pool_row_2x2(const float* top, const float* bottom, float* best_row, float* arg_row, int64_t Wo) {
#ifdef __AVX512F__
  pool_row_2x2_avx512(top, bottom, best_row, arg_row, Wo);
#else
  pool_row_2x2_scalar(top, bottom, best_row, arg_row, Wo);
#endif
}
void pool_row_2x2(const double* top, const double* bottom, double* best_row, double* arg_row, int64_t Wo) {
  pool_row_2x2_scalar(top, bottom, best_row, arg_row, Wo);
}
void unpool_row_2x2(float* top, float* bottom, const float* d, const float* arg, int64_t Wo) {
#ifdef __AVX512F__
  unpool_row_2x2_avx512(top, bottom, d, arg, Wo);
#else
  unpool_row_2x2_scalar(top, bottom, d, arg, Wo);
#endif
}
void unpool_row_2x2(double* top, double* bottom, const double* d, const double* arg, int64_t Wo) {
  unpool_row_2x2_scalar(top, bottom, d, arg, Wo);
}

namespace {
template <typename T>
void max_pool_2x2_forward(const T* src, T* out, T* offset, const PoolShape p, int64_t begin, int64_t end) {
  for (int64_t plane = begin; plane < end; ++plane)
    for (int64_t oy = 0; oy < p.Ho; ++oy) {
      const T* top = src + plane * p.H * p.W + 2 * oy * p.W;
      const int64_t o = (plane * p.Ho + oy) * p.Wo;
      pool_row_2x2(top, top + p.W, out + o, offset + o, p.Wo);
    }
}

// Whether 2x2 stride-2 windows cover every input element exactly once.
bool tiles_2x2(const PoolShape& p) { return p.k == 2 && p.stride == 2 && p.H == 2 * p.Ho && p.W == 2 * p.Wo; }

// dx for a tiles_2x2 input whose gradient buffer is still unwritten: written whole, so no
// separate zero fill.
template <typename T>
void max_pool_2x2_backward(T* dx, const T* dout, const T* offset, const PoolShape p, int64_t begin, int64_t end) {
  for (int64_t plane = begin; plane < end; ++plane)
    for (int64_t oy = 0; oy < p.Ho; ++oy) {
      T* top = dx + plane * p.H * p.W + 2 * oy * p.W;
      const int64_t o = (plane * p.Ho + oy) * p.Wo;
      unpool_row_2x2(top, top + p.W, dout + o, offset + o, p.Wo);
    }
}
}  // namespace

template <typename T>
Var<T> max_pool2d(const Var<T>& x, int64_t kernel, int64_t stride) {
  const PoolShape p = pool_shape(x.shape(), kernel, stride, "max_pool2d");
  Recording<T> rec = x.tape().record(kMaxPool2d, {x});
  rec.set_state(p);
  const Shape& s = x.shape();
  rec.value().resize(Shape{s[0], s[1], p.Ho, p.Wo});
  rec.saved().resize(Shape{p.planes * p.Ho * p.Wo});
  const T* src = x.value().data();
  T* out = rec.value().data();
  T* offset = rec.saved().data();  // (planes, Ho, Wo) winner's offset i k + j in its window, as T
  parallel_for(p.planes, p.H * p.W, [&](int64_t begin, int64_t end) {
    if (p.k == 2 && p.stride == 2) {
      max_pool_2x2_forward(src, out, offset, p, begin, end);
      return;
    }
    for (int64_t plane = begin; plane < end; ++plane)
      for (int64_t oy = 0; oy < p.Ho; ++oy)
        for (int64_t ox = 0; ox < p.Wo; ++ox) {
          const T* window = src + plane * p.H * p.W + oy * p.stride * p.W + ox * p.stride;
          T best = window[0];
          int64_t arg = 0;
          for (int64_t i = 0; i < p.k; ++i)
            for (int64_t j = 0; j < p.k; ++j) {
              // branch-free: pooled data is noise to a branch predictor
              const T v = window[i * p.W + j];
              const bool better = v > best;
              best = better ? v : best;
              arg = better ? i * p.k + j : arg;
            }
          const int64_t o = (plane * p.Ho + oy) * p.Wo + ox;
          out[o] = best;
          offset[o] = T(arg);  // first maximum on ties: only a strictly larger value replaces it
        }
  });
  return rec.backward([](Backward<T>& g) {
    // each output's gradient goes to the element that won its window
    if (!g.needs(0)) return;
    const PoolShape p = op_state<PoolShape>(g);
    bool assign;
    T* dx = g.dx_whole(0, assign).data();
    const T* dout = g.dout().data();
    const T* offset = g.saved().data();  // (planes, Ho, Wo)
    if (assign && tiles_2x2(p)) {
      parallel_for(p.planes, p.H * p.W, [&](int64_t begin, int64_t end) { max_pool_2x2_backward(dx, dout, offset, p, begin, end); });
      return;
    }
    if (assign) std::fill(dx, dx + p.planes * p.H * p.W, T(0));
    parallel_for(p.planes, p.Ho * p.Wo, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane)
        for (int64_t oy = 0; oy < p.Ho; ++oy)
          for (int64_t ox = 0; ox < p.Wo; ++ox) {
            const int64_t o = (plane * p.Ho + oy) * p.Wo + ox;
            const int64_t off = int64_t(offset[o]), i = off / p.k, j = off % p.k;
            dx[plane * p.H * p.W + (oy * p.stride + i) * p.W + ox * p.stride + j] += dout[o];
          }
    });
  });
}

template <typename T>
Var<T> avg_pool2d(const Var<T>& x, int64_t kernel, int64_t stride) {
  const PoolShape p = pool_shape(x.shape(), kernel, stride, "avg_pool2d");
  Recording<T> rec = x.tape().record(kAvgPool2d, {x});
  rec.set_state(p);
  const Shape& s = x.shape();
  rec.value().resize(Shape{s[0], s[1], p.Ho, p.Wo});
  const T* src = x.value().data();
  const T scale = T(1) / T(p.k * p.k);
  for (int64_t plane = 0; plane < p.planes; ++plane)
    for (int64_t oy = 0; oy < p.Ho; ++oy)
      for (int64_t ox = 0; ox < p.Wo; ++ox) {
        T total = 0;
        for (int64_t i = 0; i < p.k; ++i)
          for (int64_t j = 0; j < p.k; ++j) total += src[plane * p.H * p.W + (oy * p.stride + i) * p.W + ox * p.stride + j];
        rec.value()[(plane * p.Ho + oy) * p.Wo + ox] = total * scale;
      }
  return rec.backward([](Backward<T>& g) {
    // every element of a window receives dout / k^2
    if (!g.needs(0)) return;
    const PoolShape p = op_state<PoolShape>(g);
    Tensor<T>& dx = g.dx(0);
    const T scale = T(1) / T(p.k * p.k);
    for (int64_t plane = 0; plane < p.planes; ++plane)
      for (int64_t oy = 0; oy < p.Ho; ++oy)
        for (int64_t ox = 0; ox < p.Wo; ++ox) {
          const T d = g.dout()[(plane * p.Ho + oy) * p.Wo + ox] * scale;
          for (int64_t i = 0; i < p.k; ++i)
            for (int64_t j = 0; j < p.k; ++j) dx[plane * p.H * p.W + (oy * p.stride + i) * p.W + ox * p.stride + j] += d;
        }
  });
}

template Var<float> max_pool2d(const Var<float>&, int64_t, int64_t);
template Var<double> max_pool2d(const Var<double>&, int64_t, int64_t);
template Var<float> avg_pool2d(const Var<float>&, int64_t, int64_t);
template Var<double> avg_pool2d(const Var<double>&, int64_t, int64_t);

}  // namespace torus::nn
