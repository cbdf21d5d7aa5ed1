// The flat torus [0,1)^K (method.md 3.3): wrapping, the shortest signed step on each circle, and
// geodesic distances. Plain kernels on Eigen arrays, shared by training, evaluation, quantised
// search and export; the differentiable versions are the engine's wrap01 / wrapped_diff ops.
#pragma once

#include <Eigen/Core>

namespace torus::geometry {

// x - floor(x), in [0, 1) (never fmod, which keeps the sign of negative inputs).
template <typename T>
T wrap01(T x);

// The shortest signed step from b to a on the unit circle, in [-1/2, 1/2).
template <typename T>
T wrapped_diff(T a, T b);

// Geodesic distance on the flat torus with unit circles: sqrt(sum_k wrapped_diff^2).
template <typename T>
T torus_distance_l2(const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& a,
                    const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& b);

// Sum over circles of |wrapped_diff| (circular L1).
template <typename T>
T torus_distance_l1(const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& a,
                    const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& b);

}  // namespace torus::geometry
