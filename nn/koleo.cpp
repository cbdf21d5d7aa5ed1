#include "nn/koleo.hpp"

#include "nn/normalize.hpp"


namespace torus::nn {

namespace {
constexpr double kEps = 1e-6;

// Fills `select` (B, B) so that select x picks, for each row of x, the other row with the largest
// inner product (first on ties): row i holds a single 1. The Gram matrix is computed in the same
// buffer and each row is overwritten once it has been read, so the per-step search allocates
// nothing.
template <typename T>
void select_nearest_other_row(const Tensor<T>& x, Tensor<T>& select) {
  const int64_t B = x.shape()[0], F = x.shape()[1];
  const auto X = x.matrix(B, F);
  auto gram = select.matrix(B, B);
  gram.noalias() = X * X.transpose();
  for (int64_t i = 0; i < B; ++i) {
    int64_t best = -1;
    for (int64_t j = 0; j < B; ++j)
      if (j != i && (best < 0 || gram(i, j) > gram(i, best))) best = j;
    gram.row(i).setZero();
    gram(i, best) = T(1);
  }
}
}  // namespace

template <typename T>
Var<T> koleo_loss(const Var<T>& features, int views) {
  const Shape& s = features.shape();
  if (views < 1 || s.rank() != 2 || s[0] % views != 0) {
    throw ShapeError("koleo_loss: features " + s.str() + " do not split into " + std::to_string(views) + " views");
  }
  const int64_t B = s[0] / views;
  if (B < 2) return affine(sum(features), 0.0, 0.0);
  Var<T> total;
  for (int v = 0; v < views; ++v) {
    const Var<T> x = sphere_normalize(slice(features, 0, v * B, (v + 1) * B), kEps);  // (B, F)
    const auto select = x.tape().constant_buffer(Shape{B, B}, T(0));                  // (B, B) one-hot rows
    select_nearest_other_row(x.value(), select.value);
    const Var<T> neighbour = matmul(select.var, x);                                    // (B, F), exact copies
    const Var<T> diff = (x - neighbour) + kEps;                                         // torch PairwiseDistance
    const Var<T> distance = sqrt(sum(diff * diff, 1));                                  // (B)
    const Var<T> term = -mean(log(distance + kEps));
    total = total.valid() ? total + term : term;
  }
  return total;
}

template Var<float> koleo_loss(const Var<float>&, int);
template Var<double> koleo_loss(const Var<double>&, int);

}  // namespace torus::nn
