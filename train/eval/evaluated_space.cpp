#include "train/eval/evaluated_space.hpp"

#include "geometry/clifford_torus.hpp"
#include "geometry/sphere.hpp"

#include <stdexcept>
#include <string>

namespace torus::eval {

namespace {
bool is_torus(nn::HeadMode mode) { return mode == nn::HeadMode::torusN || mode == nn::HeadMode::torusC; }
}  // namespace

RowMatrix evaluated_space(const RowMatrix& z, nn::HeadMode mode) {
  switch (mode) {
    case nn::HeadMode::torusC: return geometry::clifford_project<float>(z);
    case nn::HeadMode::spherization: return geometry::l2_normalize_rows<float>(z);
    default: return z;
  }
}

RowMatrix torus_angles(const RowMatrix& z, nn::HeadMode mode) {
  if (mode == nn::HeadMode::torusN) return geometry::unwrap_pairs<float>(z);
  if (mode == nn::HeadMode::torusC) return z;
  throw std::invalid_argument(std::string("torus_angles: head ") + nn::head_mode_name(mode) + " has no angles");
}

bool has_quantisation_table(nn::HeadMode mode) { return mode == nn::HeadMode::sphere || is_torus(mode); }

RowMatrix quantisation_space(const RowMatrix& z, nn::HeadMode mode) {
  if (!has_quantisation_table(mode))
    throw std::invalid_argument(std::string("quantisation_space: head ") + nn::head_mode_name(mode) +
                                " has no quantisation table");
  return is_torus(mode) ? torus_angles(z, mode) : z;
}

RowMatrix evaluated_space_of_quantised(const RowMatrix& u, nn::HeadMode mode) {
  if (!has_quantisation_table(mode))
    throw std::invalid_argument(std::string("evaluated_space_of_quantised: head ") + nn::head_mode_name(mode) +
                                " has no quantisation table");
  return is_torus(mode) ? evaluated_space(u, nn::HeadMode::torusC) : u;
}

}  // namespace torus::eval
