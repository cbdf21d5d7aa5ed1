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
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kReshape, {x}, [](Backward<T>& g) {
    // same elements in the same order: the gradient is copied back flat
    if (!g.needs(0)) return;
    bool assign;
    Tensor<T>& dx = g.dx_whole(0, assign);
    if (assign) dx.array() = g.dout().array();
    else dx.array() += g.dout().array();
  });
  node.value.resize(target);
  node.value.array() = x.value().array();
  return tape.last();
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
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kPermute, {x}, [](Backward<T>& g) {
    // out = P(x)  =>  dx = P^-1(dout): permute back with the inverse permutation
    if (!g.needs(0)) return;
    const std::vector<int64_t>& ints = g.node().ints;  // the permutation, then its inverse
    permute_copy<T, true>(g.dx(0).data(), g.dout().data(), g.out().shape(), ints.data() + g.out().shape().rank());
  });
  node.ints.assign(perm.begin(), perm.end());
  node.ints.resize(2 * perm.size());
  for (size_t i = 0; i < perm.size(); ++i) node.ints[perm.size() + perm[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> out_dims(s.rank());
  for (int i = 0; i < s.rank(); ++i) out_dims[i] = s[perm[i]];
  node.value.resize(Shape(out_dims));
  permute_copy<T, false>(node.value.data(), x.value().data(), s, node.ints.data());
  return tape.last();
}

template <typename T>
Var<T> slice(const Var<T>& x, int axis, int64_t start, int64_t end) {
  const Shape& s = x.shape();
  const int a = s.normalize_axis(axis, "slice");
  if (start < 0 || end > s[a] || start > end) {
    throw ShapeError("slice: range [" + std::to_string(start) + ", " + std::to_string(end) + ") is outside axis " +
                     std::to_string(a) + " of shape " + s.str());
  }
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kSlice, {x}, [](Backward<T>& g) {
    // the gradient goes back to the sliced positions; the rest of x gets none
    if (!g.needs(0)) return;
    const auto& v = g.node().ints;  // outer, n, inner, start, length
    Tensor<T>& dx = g.dx(0);
    for (int64_t o = 0; o < v[0]; ++o)
      Map<T>(dx.data() + (o * v[1] + v[3]) * v[2], v[4] * v[2]) += CMap<T>(g.dout().data() + o * v[4] * v[2], v[4] * v[2]);
  });
  int64_t outer, inner;
  split_at(s, a, outer, inner);
  node.ints.assign({outer, s[a], inner, start, end - start});
  Shape sliced = s;
  sliced[a] = end - start;
  node.value.resize(sliced);
  const int64_t run = (end - start) * inner;
  for (int64_t o = 0; o < outer; ++o)
    Map<T>(node.value.data() + o * run, run) = CMap<T>(x.value().data() + (o * s[a] + start) * inner, run);
  return tape.last();
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
  Tape<T>& tape = xs[0].tape();
  Node<T>& node = tape.record(kConcat, xs, [](Backward<T>& g) {
    // each input gets back its own block of the gradient
    const int64_t outer = g.node().ints[0], inner = g.node().ints[1], total = g.node().ints[2];
    int64_t offset = 0;
    for (int i = 0; i < g.num_inputs(); ++i) {
      const int64_t n = g.node().ints[3 + i];
      if (g.needs(i)) {
        Tensor<T>& dx = g.dx(i);
        for (int64_t o = 0; o < outer; ++o)
          Map<T>(dx.data() + o * n * inner, n * inner) += CMap<T>(g.dout().data() + (o * total + offset) * inner, n * inner);
      }
      offset += n;
    }
  });
  int64_t outer, inner;
  split_at(s0, a, outer, inner);
  node.ints.assign({outer, inner, total});
  for (const Var<T>& x : xs) node.ints.push_back(x.shape()[a]);
  Shape joined = s0;
  joined[a] = total;
  node.value.resize(joined);
  int64_t offset = 0;
  for (const Var<T>& x : xs) {
    const int64_t n = x.shape()[a];
    for (int64_t o = 0; o < outer; ++o)
      Map<T>(node.value.data() + (o * total + offset) * inner, n * inner) = CMap<T>(x.value().data() + o * n * inner, n * inner);
    offset += n;
  }
  return tape.last();
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
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kIndexSelect, {x}, [](Backward<T>& g) {
    // rows picked several times collect the sum of their gradients, in index order
    if (!g.needs(0)) return;
    const int64_t row = g.in(0).shape()[0] ? g.in(0).numel() / g.in(0).shape()[0] : 0;
    Tensor<T>& dx = g.dx(0);
    const auto& idx = g.node().ints;
    for (size_t r = 0; r < idx.size(); ++r)
      Map<T>(dx.data() + idx[r] * row, row) += CMap<T>(g.dout().data() + r * row, row);
  });
  node.ints.assign(indices.begin(), indices.end());
  Shape selected = s;
  selected[0] = static_cast<int64_t>(indices.size());
  node.value.resize(selected);
  const int64_t row = s[0] ? x.value().numel() / s[0] : 0;
  for (size_t r = 0; r < indices.size(); ++r)
    Map<T>(node.value.data() + r * row, row) = CMap<T>(x.value().data() + indices[r] * row, row);
  return tape.last();
}

template <typename T>
Var<T> masked_fill(const Var<T>& x, const Tensor<T>& mask, double value) {
  if (broadcast_shapes(x.shape(), mask.shape(), "masked_fill") != x.shape()) {
    throw ShapeError("masked_fill: mask of shape " + mask.shape().str() + " does not broadcast to " + x.shape().str());
  }
  Tape<T>& tape = x.tape();
  Node<T>& node = tape.record(kMaskedFill, {x}, [](Backward<T>& g) {
    // filled positions are constants: no gradient flows through them
    if (!g.needs(0)) return;
    Tensor<T>& keep = g.saved();  // (x's shape) 1 where x passes through
    bool assign;
    Tensor<T>& dx = g.dx_whole(0, assign);
    add_unary_grad(dx, assign, g.dout(), keep, keep, [](const auto& d, const auto& k, const auto&) { return d * k; });
  });
  node.attr[0] = value;
  const T v = T(value);
  broadcast_apply(node.value, x.value(), mask, [v](const auto& a, const auto& m) { return (m != T(0)).select(Array<T>::Constant(a.size(), v), a); },
                  "masked_fill");
  broadcast_apply(node.saved, x.value(), mask, [](const auto&, const auto& m) { return (m == T(0)).template cast<T>(); },
                  "masked_fill");
  return tape.last();
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
