#include "train/embedding.hpp"

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
    const std::vector<int64_t> shape = split.input_shape();
    dims.insert(dims.end(), shape.begin(), shape.end());
    tape.clear();
    const Var<float> out = model.net->forward(tape.constant(Tensor<float>(Shape(dims), inputs)));
    if (z.size() == 0) z.resize(n, out.shape()[1]);
    z.middleRows(first, count) = out.value().matrix(count, out.shape()[1]);
  }
  model.net->set_training(was_training);
  return z;
}

}  // namespace torus::train
