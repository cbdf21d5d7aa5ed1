#include "train/embedding.hpp"

#include "geometry/clifford_torus.hpp"
#include "geometry/sphere.hpp"

#include <stdexcept>

namespace torus::train {

eval::RowMatrix embed_split(Model& model, const Split& split, const datasets::AugmentConfig& normalization,
                            int64_t batch) {
  const int64_t n = split.size();
  const bool was_training = model.net->training();
  model.net->set_training(false);
  eval::RowMatrix z;
  std::vector<float> inputs;
  Tape<float> tape;
  NoGradGuard<float> no_grad(tape);
  for (int64_t first = 0; first < n; first += batch) {
    const int64_t count = std::min(batch, n - first);
    split.inputs(first, count, normalization, inputs);
    std::vector<int64_t> dims = {count};
    if (split.is_images) {
      dims.insert(dims.end(), {split.images.channels, split.images.height, split.images.width});
    } else {
      dims.push_back(split.features.dim);
    }
    tape.clear();
    const Var<float> out = model.net->forward(tape.constant(Tensor<float>(Shape(dims), inputs)));
    if (z.size() == 0) z.resize(n, out.shape()[1]);
    z.middleRows(first, count) = out.value().matrix(count, out.shape()[1]);
  }
  model.net->set_training(was_training);
  return z;
}

eval::RowMatrix evaluated_space(const eval::RowMatrix& z, nn::HeadMode mode) {
  switch (mode) {
    case nn::HeadMode::torusC: return geometry::clifford_project<float>(z);
    case nn::HeadMode::spherization: return geometry::l2_normalize_rows<float>(z);
    default: return z;
  }
}

eval::RowMatrix torus_angles(const eval::RowMatrix& z, nn::HeadMode mode) {
  if (mode == nn::HeadMode::torusN) return geometry::unwrap_pairs<float>(z);
  if (mode == nn::HeadMode::torusC) return z;
  throw std::invalid_argument(std::string("torus_angles: head ") + nn::head_mode_name(mode) + " has no angles");
}

}  // namespace torus::train
