// Primitives that move elements without arithmetic: reshape, permute, slice, concat,
// index_select (rows), masked_fill. Each backward moves the gradient back along the same map.
#include "autodiff/ops_common.hpp"

#include <numeric>

namespace torus {
using namespace detail;

namespace {
const OpName kReshape("reshape");
const OpName kPermute("permute");
const OpName kSlice("slice");
const OpName kConcat("concat");
const OpName kIndexSelect("index_select");
const OpName kMaskedFill("masked_fill");

// Row-major strides of a shape.
std::array<int64_t, kMaxRank> strides_of(const Shape& s) {
  std::array<int64_t, kMaxRank> st{};
  int64_t run = 1;
  for (int i = s.rank() - 1; i >= 0; --i) {
    st[i] = run;
    run *= s[i];
  }
  return st;
}

// dst[j] (+)= src[index of the j-th element of the permuted view]; out.shape[i] = in.shape[perm[i]].
template <typename T, bool Accumulate>
void permute_copy(T* dst, const T* src, const Shape& in, const int64_t* perm) {
  const int r = in.rank();
  const auto in_strides = strides_of(in);
  std::array<int64_t, kMaxRank> out_dims{}, step{};
  for (int i = 0; i < r; ++i) {
    out_dims[i] = in[static_cast<int>(perm[i])];
    step[i] = in_strides[perm[i]];
  }
  std::array<int64_t, kMaxRank> idx{};
  const int64_t total = in.numel();
  int64_t offset = 0;
  for (int64_t j = 0; j < total; ++j) {
    if constexpr (Accumulate) dst[j] += src[offset];
    else dst[j] = src[offset];
    for (int i = r - 1; i >= 0; --i) {  // odometer over the output index
      offset += step[i];
      if (++idx[i] < out_dims[i]) break;
      offset -= step[i] * out_dims[i];
      idx[i] = 0;
    }
  }
}

// The state of slice: x viewed as (outer, n, inner) along the axis, keeping [start, start + length).
struct SliceState {
  int64_t outer, n, inner, start, length;
};

// The state of concat: the output viewed as (outer, total, inner) along the axis.
struct ConcatState {
  int64_t outer, inner, total;
};

// (outer, n, inner) view of `s` along axis.
void split_at(const Shape& s, int axis, int64_t& outer, int64_t& inner) {
  outer = inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
}
}  // namespace

template <typename T>
Var<T> reshape(const Var<T>& x, std::span<const int64_t> dims) {
  if (dims.size() > static_cast<size_t>(kMaxRank)) throw ShapeError("reshape: target rank exceeds the maximum for " + x.shape().str());
  std::array<int64_t, kMaxRank> d{};  // inline: reshape runs in every training step
  std::copy(dims.begin(), dims.end(), d.begin());
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (d[i] == -1) {
      if (infer >= 0) throw ShapeError("reshape: more than one -1 in the target shape for " + x.shape().str());
      infer = static_cast<int>(i);
    } else {
      known *= d[i];
    }
  }
  if (infer >= 0 && known > 0) d[infer] = x.value().numel() / known;
  const Shape target(std::span<const int64_t>(d.data(), dims.size()));
  if (target.numel() != x.value().numel()) {
    throw ShapeError("reshape: cannot reshape " + x.shape().str() + " (" + std::to_string(x.value().numel()) +
                     " elements) to " + target.str());
  }
  Recording<T> rec = x.tape().record(kReshape, {x});
  rec.value().resize(target);
  rec.value().array() = x.value().array();
  return rec.backward([](Backward<T>& g) {
    // same elements in the same order: the gradient is copied back flat
    if (!g.needs(0)) return;
    bool assign;
    Tensor<T>& dx = g.dx_whole(0, assign);
    if (assign) dx.array() = g.dout().array();
    else dx.array() += g.dout().array();
  });
}

template <typename T>
Var<T> permute(const Var<T>& x, const std::vector<int>& perm) {
  const Shape& s = x.shape();
  std::vector<bool> seen(s.rank(), false);
  bool valid = static_cast<int>(perm.size()) == s.rank();
  for (int p : perm) {
    valid = valid && p >= 0 && p < s.rank() && !seen[p];
    if (p >= 0 && p < s.rank()) seen[p] = true;
  }
  if (!valid) throw ShapeError("permute: invalid permutation for shape " + s.str());
  std::array<int64_t, kMaxRank> forward{}, out_dims{};
  for (int i = 0; i < s.rank(); ++i) {
    forward[i] = perm[i];
    out_dims[i] = s[perm[i]];
  }
  Recording<T> rec = x.tape().record(kPermute, {x});
  std::vector<int64_t>& inverse = rec.index_list();  // (rank) inverse[perm[i]] = i
  inverse.resize(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
  rec.value().resize(Shape(std::span<const int64_t>(out_dims.data(), s.rank())));
  permute_copy<T, false>(rec.value().data(), x.value().data(), s, forward.data());
  return rec.backward([](Backward<T>& g) {
    // out = P(x)  =>  dx = P^-1(dout): permute back with the inverse permutation
    if (!g.needs(0)) return;
    permute_copy<T, true>(g.dx(0).data(), g.dout().data(), g.out().shape(), g.index_list().data());
  });
}

template <typename T>
Var<T> slice(const Var<T>& x, int axis, int64_t start, int64_t end) {
  const Shape& s = x.shape();
  const int a = s.normalize_axis(axis, "slice");
  if (start < 0 || end > s[a] || start > end) {
    throw ShapeError("slice: range [" + std::to_string(start) + ", " + std::to_string(end) + ") is outside axis " +
                     std::to_string(a) + " of shape " + s.str());
  }
  SliceState v;
  split_at(s, a, v.outer, v.inner);
  v.n = s[a];
  v.start = start;
  v.length = end - start;
  Recording<T> rec = x.tape().record(kSlice, {x});
  rec.set_state(v);
  Shape sliced = s;
  sliced[a] = v.length;
  rec.value().resize(sliced);
  const int64_t run = v.length * v.inner;
  for (int64_t o = 0; o < v.outer; ++o)
    Map<T>(rec.value().data() + o * run, run) = CMap<T>(x.value().data() + (o * v.n + start) * v.inner, run);
  return rec.backward([](Backward<T>& g) {
    // the gradient goes back to the sliced positions; the rest of x gets none
    if (!g.needs(0)) return;
    const SliceState v = op_state<SliceState>(g);
    const int64_t run = v.length * v.inner;
    Tensor<T>& dx = g.dx(0);
    for (int64_t o = 0; o < v.outer; ++o)
      Map<T>(dx.data() + (o * v.n + v.start) * v.inner, run) += CMap<T>(g.dout().data() + o * run, run);
  });
}

template <typename T>
Var<T> concat(const std::vector<Var<T>>& xs, int axis) {
  if (xs.empty()) throw ShapeError("concat: no inputs");
  const Shape& s0 = xs[0].shape();
  const int a = s0.normalize_axis(axis, "concat");
  int64_t total = 0;
  for (const Var<T>& x : xs) {
    const Shape& s = x.shape();
    bool ok = s.rank() == s0.rank();
    for (int i = 0; ok && i < s.rank(); ++i) ok = i == a || s[i] == s0[i];
    if (!ok) throw ShapeError("concat: shape " + s.str() + " does not match " + s0.str() + " outside axis " + std::to_string(a));
    total += s[a];
  }
  ConcatState c;
  split_at(s0, a, c.outer, c.inner);
  c.total = total;
  Recording<T> rec = xs[0].tape().record(kConcat, xs);
  rec.set_state(c);
  std::vector<int64_t>& sizes = rec.index_list();  // (inputs) each input's length along the axis
  sizes.clear();
  for (const Var<T>& x : xs) sizes.push_back(x.shape()[a]);
  Shape joined = s0;
  joined[a] = total;
  rec.value().resize(joined);
  int64_t offset = 0;
  for (const Var<T>& x : xs) {
    const int64_t n = x.shape()[a];
    for (int64_t o = 0; o < c.outer; ++o)
      Map<T>(rec.value().data() + (o * total + offset) * c.inner, n * c.inner) = CMap<T>(x.value().data() + o * n * c.inner, n * c.inner);
    offset += n;
  }
  return rec.backward([](Backward<T>& g) {
    // each input gets back its own block of the gradient
    const ConcatState c = op_state<ConcatState>(g);
    int64_t offset = 0;
    for (int i = 0; i < g.num_inputs(); ++i) {
      const int64_t n = g.index_list()[i];
      if (g.needs(i)) {
        Tensor<T>& dx = g.dx(i);
        for (int64_t o = 0; o < c.outer; ++o)
          Map<T>(dx.data() + o * n * c.inner, n * c.inner) += CMap<T>(g.dout().data() + (o * c.total + offset) * c.inner, n * c.inner);
      }
      offset += n;
    }
  });
}

template <typename T>
Var<T> index_select(const Var<T>& x, const std::vector<int64_t>& indices) {
  const Shape& s = x.shape();
  if (s.rank() < 1) throw ShapeError("index_select: input must have at least one axis, got " + s.str());
  for (int64_t i : indices) {
    if (i < 0 || i >= s[0]) {
      throw ShapeError("index_select: row index " + std::to_string(i) + " is outside [0, " + std::to_string(s[0]) +
                       ") for shape " + s.str());
    }
  }
  Recording<T> rec = x.tape().record(kIndexSelect, {x});
  rec.index_list().assign(indices.begin(), indices.end());  // (R) the rows picked
  Shape selected = s;
  selected[0] = static_cast<int64_t>(indices.size());
  rec.value().resize(selected);
  const int64_t row = s[0] ? x.value().numel() / s[0] : 0;
  for (size_t r = 0; r < indices.size(); ++r)
    Map<T>(rec.value().data() + r * row, row) = CMap<T>(x.value().data() + indices[r] * row, row);
  return rec.backward([](Backward<T>& g) {
    // rows picked several times collect the sum of their gradients, in index order
    if (!g.needs(0)) return;
    const int64_t row = g.in(0).shape()[0] ? g.in(0).numel() / g.in(0).shape()[0] : 0;
    Tensor<T>& dx = g.dx(0);
    const std::vector<int64_t>& rows = g.index_list();
    for (size_t r = 0; r < rows.size(); ++r)
      Map<T>(dx.data() + rows[r] * row, row) += CMap<T>(g.dout().data() + r * row, row);
  });
}

template <typename T>
Var<T> masked_fill(const Var<T>& x, const Tensor<T>& mask, double value) {
  if (broadcast_shapes(x.shape(), mask.shape(), "masked_fill") != x.shape()) {
    throw ShapeError("masked_fill: mask of shape " + mask.shape().str() + " does not broadcast to " + x.shape().str());
  }
  Recording<T> rec = x.tape().record(kMaskedFill, {x});
  const T v = T(value);
  broadcast_apply(rec.value(), x.value(), mask, [v](const auto& a, const auto& m) { return (m != T(0)).select(Array<T>::Constant(a.size(), v), a); },
                  "masked_fill");
  Tensor<T>& keep = rec.saved();  // (x's shape) 1 where x passes through
  broadcast_apply(keep, x.value(), mask, [](const auto&, const auto& m) { return (m == T(0)).template cast<T>(); },
                  "masked_fill");
  return rec.backward([](Backward<T>& g) {
    // filled positions are constants: no gradient flows through them
    if (!g.needs(0)) return;
    const Tensor<T>& keep = g.saved();  // (x's shape)
    bool assign;
    Tensor<T>& dx = g.dx_whole(0, assign);
    add_unary_grad(dx, assign, g.dout(), keep, keep, [](const auto& d, const auto& k, const auto&) { return d * k; });
  });
}

#define TORUS_INSTANTIATE(T)                                                   \
  template Var<T> reshape(const Var<T>&, std::span<const int64_t>);            \
  template Var<T> permute(const Var<T>&, const std::vector<int>&);             \
  template Var<T> slice(const Var<T>&, int, int64_t, int64_t);                 \
  template Var<T> concat(const std::vector<Var<T>>&, int);                     \
  template Var<T> index_select(const Var<T>&, const std::vector<int64_t>&);    \
  template Var<T> masked_fill(const Var<T>&, const Tensor<T>&, double);
TORUS_INSTANTIATE(float)
TORUS_INSTANTIATE(double)
#undef TORUS_INSTANTIATE

}  // namespace torus
