// The flat torus [0,1)^K (method.md 3.3): wrapping, the shortest signed step on each circle, and
// geodesic distances. Plain kernels, shared by training, evaluation, quantised search and export;
// the differentiable ops of nn/flat_torus.hpp compute their values with wrap01 and wrapped_diff
// below, element by element (inline here, so those loops stay vectorisable).
#pragma once

#include <Eigen/Core>

#include <cmath>

namespace torus::geometry {

// x - floor(x), in [0, 1) (never fmod, which keeps the sign of negative inputs).
template <typename T>
inline T wrap01(T x) {
  const T u = x - std::floor(x);
  return u >= T(1) ? T(0) : u;  // x - floor(x) rounds up to 1 for tiny negative x
}

// The shortest signed step from b to a on the unit circle, in [-1/2, 1/2): d - floor(d + 1/2)
// with d = a - b, a rounded +1/2 folded to -1/2 so the interval is half-open like
// int8_t(uint8_t(qa - qb)) on uint8 codes.
template <typename T>
inline T wrapped_diff(T a, T b) {
  const T d = a - b;
  const T w = d - std::floor(d + T(0.5));
  return w >= T(0.5) ? w - T(1) : w;
}

// Geodesic distance on the flat torus with unit circles: sqrt(sum_k wrapped_diff^2).
template <typename T>
T torus_distance_l2(const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& a,
                    const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& b);

// Sum over circles of |wrapped_diff| (circular L1).
template <typename T>
T torus_distance_l1(const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& a,
                    const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& b);

}  // namespace torus::geometry
