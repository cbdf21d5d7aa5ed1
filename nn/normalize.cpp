#include "nn/normalize.hpp"

#include <cmath>

namespace torus::nn {

namespace {
const OpName kGroupNormalize("group_l2_normalize", "nn");
}

template <typename T>
Var<T> group_l2_normalize(const Var<T>& h, int64_t group, double eps) {
  const Shape& s = h.shape();
  if (s.rank() < 1 || group < 1 || s[s.rank() - 1] % group != 0) {
    throw ShapeError("group_l2_normalize: the last axis of " + s.str() + " must split into groups of " +
                     std::to_string(group));
  }
  Tape<T>& tape = h.tape();
  Node<T>& node = tape.record(kGroupNormalize, {h}, [](Backward<T>& g) {
    // z = h / rho with rho = max(|h|, eps) per group.
    //   rho > eps:  dh = (dz - z <z, dz>) / rho   (the radial part of dz is projected out)
    //   rho = eps:  dh = dz / eps                 (the clamp is constant, so z is linear in h)
    if (!g.needs(0)) return;
    const int64_t group = g.node().ints[0];
    const T eps = T(g.node().attr[0]);
    const T* z = g.out().data();
    const T* dz = g.dout().data();
    const T* rho = g.node().saved.data();  // (groups)
    Tensor<T>& dx = g.dx(0);
    const int64_t groups = g.out().numel() / group;
    for (int64_t k = 0; k < groups; ++k) {
      const T* zk = z + k * group;
      const T* dzk = dz + k * group;
      T dot = 0;
      if (rho[k] > eps)
        for (int64_t j = 0; j < group; ++j) dot += zk[j] * dzk[j];
      for (int64_t j = 0; j < group; ++j) dx[k * group + j] += (dzk[j] - zk[j] * dot) / rho[k];
    }
  });
  node.ints.assign({group});
  node.attr[0] = eps;
  const int64_t groups = h.value().numel() / group;
  node.value.resize(s);
  node.saved.resize(Shape{groups});
  const T* x = h.value().data();
  for (int64_t k = 0; k < groups; ++k) {
    T sq = 0;
    for (int64_t j = 0; j < group; ++j) sq += x[k * group + j] * x[k * group + j];
    const T rho = std::max(std::sqrt(sq), T(eps));
    node.saved[k] = rho;
    for (int64_t j = 0; j < group; ++j) node.value[k * group + j] = x[k * group + j] / rho;
  }
  return tape.last();
}

template Var<float> group_l2_normalize(const Var<float>&, int64_t, double);
template Var<double> group_l2_normalize(const Var<double>&, int64_t, double);

}  // namespace torus::nn
