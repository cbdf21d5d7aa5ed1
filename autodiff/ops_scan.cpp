// Cumulative sum along an axis, inclusive (y_k = sum_{j<=k} x_j) or exclusive (sum_{j<k}).
// Products of many factors (the spherization layer's sines) become cumulative sums of logs, which
// costs O(n) where multiplying by a triangular matrix of ones would cost O(n^2).
#include "autodiff/ops_common.hpp"

namespace torus {
using namespace detail;

namespace {
const OpName kCumsum("cumsum");

// x viewed as (outer, n, inner), summed along n.
struct CumsumState {
  int64_t outer, n, inner;
  bool exclusive;  // sum_{j<k} rather than sum_{j<=k}
};

// y along each (outer, ., inner) line: running sum, forwards or backwards.
template <typename T>
void scan(T* y, const T* x, int64_t outer, int64_t n, int64_t inner, bool exclusive, bool reverse, bool accumulate) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      T run = 0;
      for (int64_t step = 0; step < n; ++step) {
        const int64_t k = reverse ? n - 1 - step : step;
        const int64_t at = (o * n + k) * inner + i;
        if (!exclusive) run += x[at];
        y[at] = accumulate ? y[at] + run : run;
        if (exclusive) run += x[at];
      }
    }
}
}  // namespace

template <typename T>
Var<T> cumsum(const Var<T>& x, int axis, bool exclusive) {
  const Shape& s = x.shape();
  const int a = s.normalize_axis(axis, "cumsum");
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < a; ++i) outer *= s[i];
  for (int i = a + 1; i < s.rank(); ++i) inner *= s[i];
  const CumsumState state{outer, s[a], inner, exclusive};
  Recording<T> rec = x.tape().record(kCumsum, {x});
  rec.set_state(state);
  rec.value().resize(s);
  scan(rec.value().data(), x.value().data(), outer, s[a], inner, exclusive, false, false);
  return rec.backward([](Backward<T>& g) {
    // y = L x with L (strictly) lower-triangular ones  =>  dx = L^T dy: a reverse running sum
    if (!g.needs(0)) return;
    const CumsumState c = op_state<CumsumState>(g);
    scan(g.dx(0).data(), g.dout().data(), c.outer, c.n, c.inner, c.exclusive, true, true);
  });
}

template Var<float> cumsum(const Var<float>&, int, bool);
template Var<double> cumsum(const Var<double>&, int, bool);

}  // namespace torus
