#include "nn/normalize.hpp"

namespace torus::nn {

namespace {
const OpName kGroupNormalize("group_l2_normalize", "nn");

struct NormalizeState {
  int64_t group;  // entries per group
  double eps;     // the norm is clamped below at eps
};
}

template <typename T>
Var<T> group_l2_normalize(const Var<T>& h, int64_t group, double eps) {
  const Shape& s = h.shape();
  if (s.rank() < 1 || group < 1 || s[s.rank() - 1] % group != 0) {
    throw ShapeError("group_l2_normalize: the last axis of " + s.str() + " must split into groups of " +
                     std::to_string(group));
  }
  const NormalizeState state{group, eps};
  const int64_t groups = h.value().numel() / group;
  Recording<T> rec = h.tape().record(kGroupNormalize, {h});
  rec.set_state(state);
  rec.value().resize(s);
  Tensor<T>& rho = rec.saved();  // (groups) max(|group|, eps)
  rho.resize(Shape{groups});
  geometry::group_l2_normalize(h.value().data(), h.value().numel(), group, T(eps), rec.value().data(), rho.data());
  return rec.backward([](Backward<T>& g) {
    // z = h / rho with rho = max(|h|, eps) per group.
    //   rho > eps:  dh = (dz - z <z, dz>) / rho   (the radial part of dz is projected out)
    //   rho = eps:  dh = dz / eps                 (the clamp is constant, so z is linear in h)
    if (!g.needs(0)) return;
    const NormalizeState st = op_state<NormalizeState>(g);
    const int64_t group = st.group;
    const T eps = T(st.eps);
    const T* z = g.out().data();
    const T* dz = g.dout().data();
    const T* rho = g.saved().data();  // (groups)
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
}

template Var<float> group_l2_normalize(const Var<float>&, int64_t, double);
template Var<double> group_l2_normalize(const Var<double>&, int64_t, double);

}  // namespace torus::nn
