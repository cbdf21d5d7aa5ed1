// Every differentiable op. The engine's primitives are declared below; the primitives of nn/ in
// the headers named in the index; composites (built from primitives, with no backward of their
// own) at the end of this file. All are instantiated for float (training) and double (checks).
//
// Index of primitives: each is recorded on the tape under its name, and its backward is written
// right below its forward in the file named here. A test fails when one has no gradient check.
//   name                 declared in                    forward and backward in
//   add sub mul div      autodiff/ops.hpp               autodiff/ops_binary.cpp
//   atan2                autodiff/ops.hpp               autodiff/ops_binary.cpp
//   affine exp log sqrt pow abs sin cos tanh sigmoid relu leaky_relu softplus clamp gelu
//                        autodiff/ops.hpp               autodiff/ops_unary.cpp
//   matmul               autodiff/ops.hpp               autodiff/ops_matmul.cpp
//   sum sum_axis max_axis logsumexp log_softmax
//                        autodiff/ops.hpp               autodiff/ops_reduce.cpp
//   cumsum               autodiff/ops.hpp               autodiff/ops_scan.cpp (spherization's products)
//   reshape permute slice concat index_select masked_fill
//                        autodiff/ops.hpp               autodiff/ops_shape.cpp
//   wrap01 wrapped_diff  nn/flat_torus.hpp              nn/flat_torus.cpp (value: geometry/flat_torus.hpp)
//   group_l2_normalize   nn/normalize.hpp               nn/normalize.cpp (value: geometry/normalize.hpp)
//   clifford_project     nn/clifford_torus.hpp          nn/clifford_torus.cpp (value: geometry/clifford_torus.cpp)
//   conv2d               nn/conv2d.hpp                  nn/conv2d.cpp (per image: nn/conv_image.cpp)
//   conv2d_max_pool2     nn/conv_pool.hpp               nn/conv_pool.cpp
//   max_pool2d avg_pool2d
//                        nn/pool2d.hpp                  nn/pool2d.cpp
//   batch_norm           nn/batchnorm.hpp               nn/batchnorm.cpp (sync batch norm: its reductions over the ranks)
//   all_gather           nn/dist/all_gather.hpp         nn/dist/all_gather.cpp (collective; checked under mpirun in tests/dist)
//
// Conventions at points where the derivative is not defined (each asserted exactly in the tests):
//   abs'(0) = 0, relu'(0) = 0, leaky_relu'(0) = slope, clamp passes the gradient on [lo, hi]
//   inclusive, max sends it to the first maximum, atan2's gradient at the origin is (0, 0),
//   sqrt'(0) = +inf (clamp before sqrt when zero is reachable), nn's wrap01 and wrapped_diff pass
//   +1 / -1 everywhere including at the jump (the step along the circle is smooth).
// A row of all -inf is legal in logsumexp / log_softmax / softmax: the result is -inf / -inf / 0
// and the gradient is 0, never NaN (a fully masked row carries no information).
#pragma once

#include "autodiff/tape.hpp"

#include <cstdint>
#include <initializer_list>
#include <span>
#include <utility>
#include <vector>

namespace torus {

// ---- elementwise binary, with broadcasting (ops_binary.cpp) ----
template <typename T> Var<T> add(const Var<T>& a, const Var<T>& b);
template <typename T> Var<T> sub(const Var<T>& a, const Var<T>& b);
template <typename T> Var<T> mul(const Var<T>& a, const Var<T>& b);
template <typename T> Var<T> div(const Var<T>& a, const Var<T>& b);
// atan2(y, x) in (-pi, pi]; y and x must have the same shape.
template <typename T> Var<T> atan2(const Var<T>& y, const Var<T>& x);

// ---- elementwise unary (ops_unary.cpp) ----
// a * x + b; carries neg and all scalar arithmetic.
template <typename T> Var<T> affine(const Var<T>& x, double a, double b);
template <typename T> Var<T> exp(const Var<T>& x);
template <typename T> Var<T> log(const Var<T>& x);
template <typename T> Var<T> sqrt(const Var<T>& x);
template <typename T> Var<T> pow(const Var<T>& x, double p);
template <typename T> Var<T> abs(const Var<T>& x);
template <typename T> Var<T> sin(const Var<T>& x);
template <typename T> Var<T> cos(const Var<T>& x);
template <typename T> Var<T> tanh(const Var<T>& x);
template <typename T> Var<T> sigmoid(const Var<T>& x);
template <typename T> Var<T> relu(const Var<T>& x);
template <typename T> Var<T> leaky_relu(const Var<T>& x, double slope = 0.01);
template <typename T> Var<T> softplus(const Var<T>& x);
template <typename T> Var<T> clamp(const Var<T>& x, double lo, double hi);
template <typename T> Var<T> gelu(const Var<T>& x);  // x Phi(x), exact (erf) form

// ---- matrix product (ops_matmul.cpp) ----
// op(a) @ op(b) for 2-D a, b, where op transposes when the flag is set.
template <typename T> Var<T> matmul(const Var<T>& a, const Var<T>& b, bool transpose_a = false, bool transpose_b = false);

// ---- reductions (ops_reduce.cpp) ----
template <typename T> Var<T> sum(const Var<T>& x);  // all elements, shape []
template <typename T> Var<T> sum(const Var<T>& x, int axis, bool keepdim = false);
template <typename T> Var<T> max(const Var<T>& x, int axis, bool keepdim = false);
template <typename T> Var<T> logsumexp(const Var<T>& x, int axis, bool keepdim = false);
template <typename T> Var<T> log_softmax(const Var<T>& x, int axis);
// Running sum along axis: inclusive y_k = sum_{j<=k} x_j, or exclusive sum_{j<k} (ops_scan.cpp).
template <typename T> Var<T> cumsum(const Var<T>& x, int axis, bool exclusive = false);

// ---- shape (ops_shape.cpp) ----
// One dimension may be -1 and is inferred.
template <typename T> Var<T> reshape(const Var<T>& x, std::span<const int64_t> dims);
template <typename T> Var<T> reshape(const Var<T>& x, const std::vector<int64_t>& dims) { return reshape(x, std::span<const int64_t>(dims)); }
template <typename T> Var<T> reshape(const Var<T>& x, std::initializer_list<int64_t> dims) {
  return reshape(x, std::span<const int64_t>(dims.begin(), dims.size()));
}
// out.shape[i] = x.shape[perm[i]].
template <typename T> Var<T> permute(const Var<T>& x, const std::vector<int>& perm);
// Elements [start, end) along axis.
template <typename T> Var<T> slice(const Var<T>& x, int axis, int64_t start, int64_t end);
template <typename T> Var<T> concat(const std::vector<Var<T>>& xs, int axis);
// Rows (axis 0) of x in the order given; indices may repeat.
template <typename T> Var<T> index_select(const Var<T>& x, const std::vector<int64_t>& indices);
// value where mask != 0, x elsewhere; mask broadcasts to x's shape and is not differentiated.
template <typename T> Var<T> masked_fill(const Var<T>& x, const Tensor<T>& mask, double value);

// ---- composites: no backward code of their own ----
template <typename T> Var<T> neg(const Var<T>& x) { return affine(x, -1.0, 0.0); }
template <typename T> Var<T> mean(const Var<T>& x) { return affine(sum(x), 1.0 / double(x.value().numel()), 0.0); }
template <typename T> Var<T> mean(const Var<T>& x, int axis, bool keepdim = false) {
  const int a = x.shape().normalize_axis(axis, "mean");
  return affine(sum(x, a, keepdim), 1.0 / double(x.shape()[a]), 0.0);
}
template <typename T> Var<T> max(const Var<T>& x) { return max(reshape(x, {-1}), 0); }
template <typename T> Var<T> softmax(const Var<T>& x, int axis) { return exp(log_softmax(x, axis)); }
template <typename T> Var<T> transpose(const Var<T>& x, int axis0, int axis1) {
  const int r = x.shape().rank();
  std::vector<int> perm(r);
  for (int i = 0; i < r; ++i) perm[i] = i;
  std::swap(perm[x.shape().normalize_axis(axis0, "transpose")], perm[x.shape().normalize_axis(axis1, "transpose")]);
  return permute(x, perm);
}
template <typename T> Var<T> nchw_to_nhwc(const Var<T>& x) { return permute(x, {0, 2, 3, 1}); }
template <typename T> Var<T> nhwc_to_nchw(const Var<T>& x) { return permute(x, {0, 3, 1, 2}); }

template <typename T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
template <typename T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
template <typename T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
template <typename T> Var<T> operator/(const Var<T>& a, const Var<T>& b) { return div(a, b); }
template <typename T> Var<T> operator-(const Var<T>& x) { return affine(x, -1.0, 0.0); }
template <typename T> Var<T> operator+(const Var<T>& x, double s) { return affine(x, 1.0, s); }
template <typename T> Var<T> operator+(double s, const Var<T>& x) { return affine(x, 1.0, s); }
template <typename T> Var<T> operator-(const Var<T>& x, double s) { return affine(x, 1.0, -s); }
template <typename T> Var<T> operator-(double s, const Var<T>& x) { return affine(x, -1.0, s); }
template <typename T> Var<T> operator*(const Var<T>& x, double s) { return affine(x, s, 0.0); }
template <typename T> Var<T> operator*(double s, const Var<T>& x) { return affine(x, s, 0.0); }
template <typename T> Var<T> operator/(const Var<T>& x, double s) { return affine(x, 1.0 / s, 0.0); }
template <typename T> Var<T> operator/(double s, const Var<T>& x) { return affine(pow(x, -1.0), s, 0.0); }

}  // namespace torus
