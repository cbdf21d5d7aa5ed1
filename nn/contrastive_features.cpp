#include "nn/contrastive_features.hpp"

#include "nn/clifford_torus.hpp"
#include "nn/normalize.hpp"

#include <stdexcept>

namespace torus::nn {

template <typename T>
ContrastiveFeatures<T> contrastive_features(const Var<T>& z, HeadMode mode) {
  const double D = double(z.shape()[z.shape().rank() - 1]);
  switch (mode) {
    case HeadMode::sphere: return {z, 1.0};
    case HeadMode::torusN: return {z, D / 2};          // <z_a, z_b> = sum of K cosines
    case HeadMode::torusC: return {clifford_project(z), D};  // <c_a, c_b> = sum of D cosines
    case HeadMode::spherization: return {sphere_normalize(z), 1.0};  // |z| = r up to the 1e-6 terms
    case HeadMode::none: return {z, 1.0};
  }
  throw std::logic_error("contrastive_features: unknown mode");
}

template ContrastiveFeatures<float> contrastive_features(const Var<float>&, HeadMode);
template ContrastiveFeatures<double> contrastive_features(const Var<double>&, HeadMode);

}  // namespace torus::nn
