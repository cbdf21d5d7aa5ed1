#include "nn/clifford_torus.hpp"

#include "geometry/clifford_torus.hpp"

#include <numbers>

namespace torus::nn {

namespace {
const OpName kCliffordProject("clifford_project", "nn");
}  // namespace

template <typename T>
Var<T> clifford_project(const Var<T>& h) {
  const Shape& s = h.shape();
  if (s.rank() < 1) throw ShapeError("clifford_project: input must have at least one axis, got " + s.str());
  const int64_t D = s[s.rank() - 1];
  const int64_t rows = D ? h.value().numel() / D : 0;
  Shape doubled = s;
  doubled[s.rank() - 1] = 2 * D;
  Recording<T> rec = h.tape().record(kCliffordProject, {h});
  rec.value().resize(doubled);  // (rows, 2D)
  geometry::clifford_project(h.value().data(), rows, D, rec.value().data());
  return rec.backward([](Backward<T>& g) {
    // d cos(2 pi h) = -2 pi sin(2 pi h) dh,  d sin(2 pi h) = 2 pi cos(2 pi h) dh
    if (!g.needs(0)) return;
    const Shape& s = g.in(0).shape();
    const int64_t D = s[s.rank() - 1];
    const int64_t rows = D ? g.in(0).numel() / D : 0;
    const T two_pi = 2 * std::numbers::pi_v<T>;
    const T* c = g.out().data();    // (rows, 2D) cosines, then sines
    const T* dc = g.dout().data();  // (rows, 2D)
    T* dh = g.dx(0).data();         // (rows, D)
    for (int64_t r = 0; r < rows; ++r) {
      const T* cos_r = c + r * 2 * D;
      const T* sin_r = cos_r + D;
      const T* dcos_r = dc + r * 2 * D;
      const T* dsin_r = dcos_r + D;
      for (int64_t d = 0; d < D; ++d) dh[r * D + d] += two_pi * (cos_r[d] * dsin_r[d] - sin_r[d] * dcos_r[d]);
    }
  });
}

template Var<float> clifford_project(const Var<float>&);
template Var<double> clifford_project(const Var<double>&);

}  // namespace torus::nn
