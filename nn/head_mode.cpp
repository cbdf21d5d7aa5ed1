#include "nn/head_mode.hpp"

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

}  // namespace torus::nn
