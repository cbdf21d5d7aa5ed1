#include "geometry/flat_torus.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace torus::geometry {

namespace {
template <typename T>
void check_sizes(Eigen::Index a, Eigen::Index b, const char* what) {
  if (a != b) {
    throw std::invalid_argument(std::string(what) + ": points have " + std::to_string(a) + " and " + std::to_string(b) +
                                " coordinates");
  }
}
}  // namespace

template <typename T>
T torus_distance_l2(const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& a,
                    const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& b) {
  check_sizes<T>(a.size(), b.size(), "torus_distance_l2");
  T s = 0;
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    const T d = wrapped_diff(a[k], b[k]);
    s += d * d;
  }
  return std::sqrt(s);
}

template <typename T>
T torus_distance_l1(const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& a,
                    const Eigen::Ref<const Eigen::Array<T, Eigen::Dynamic, 1>>& b) {
  check_sizes<T>(a.size(), b.size(), "torus_distance_l1");
  T s = 0;
  for (Eigen::Index k = 0; k < a.size(); ++k) s += std::abs(wrapped_diff(a[k], b[k]));
  return s;
}

template float torus_distance_l2(const Eigen::Ref<const Eigen::ArrayXf>&, const Eigen::Ref<const Eigen::ArrayXf>&);
template double torus_distance_l2(const Eigen::Ref<const Eigen::ArrayXd>&, const Eigen::Ref<const Eigen::ArrayXd>&);
template float torus_distance_l1(const Eigen::Ref<const Eigen::ArrayXf>&, const Eigen::Ref<const Eigen::ArrayXf>&);
template double torus_distance_l1(const Eigen::Ref<const Eigen::ArrayXd>&, const Eigen::Ref<const Eigen::ArrayXd>&);

}  // namespace torus::geometry
