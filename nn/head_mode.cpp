#include "nn/head_mode.hpp"

#include "nn/normalize.hpp"

#include <numbers>
#include <stdexcept>

namespace torus::nn {

HeadMode parse_head_mode(const std::string& name) {
  if (name == "none") return HeadMode::none;
  if (name == "sphere") return HeadMode::sphere;
  if (name == "torusN") return HeadMode::torusN;
  if (name == "torusC") return HeadMode::torusC;
  if (name == "spherization") return HeadMode::spherization;
  throw std::invalid_argument("head mode '" + name + "' is not one of: none, sphere, torusN, torusC, spherization");
}

const char* head_mode_name(HeadMode mode) {
  switch (mode) {
    case HeadMode::none: return "none";
    case HeadMode::sphere: return "sphere";
    case HeadMode::torusN: return "torusN";
    case HeadMode::torusC: return "torusC";
    case HeadMode::spherization: return "spherization";
  }
  return "?";
}

template <typename T>
Var<T> clifford_project(const Var<T>& h) {
  const Var<T> angle = h * (2 * std::numbers::pi);
  return concat<T>({cos(angle), sin(angle)}, h.shape().rank() - 1);
}

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

template Var<float> clifford_project(const Var<float>&);
template Var<double> clifford_project(const Var<double>&);
template ContrastiveFeatures<float> contrastive_features(const Var<float>&, HeadMode);
template ContrastiveFeatures<double> contrastive_features(const Var<double>&, HeadMode);

}  // namespace torus::nn
