#include "train/embedding.hpp"

#include "datasets/batch_part.hpp"

namespace torus::train {

eval::RowMatrix embed_rows(Model& model, const Split& split, const datasets::AugmentConfig& normalization, int64_t first,
                           int64_t count, int64_t batch) {
  const bool was_training = model.net->training();
  model.net->set_training(false);
  eval::RowMatrix z;
  std::vector<float> inputs;
  Tape<float> tape;
  NoGradGuard<float> no_grad(tape);
  for (int64_t done = 0; done < count; done += batch) {
    const int64_t rows = std::min(batch, count - done);
    split.inputs(first + done, rows, normalization, inputs);
    std::vector<int64_t> dims = {rows};
    const std::vector<int64_t> shape = split.input_shape();
    dims.insert(dims.end(), shape.begin(), shape.end());
    tape.clear();
    const Var<float> out = model.net->forward(tape.constant(Tensor<float>(Shape(dims), inputs)));
    if (z.size() == 0) z.resize(count, out.shape()[1]);
    z.middleRows(done, rows) = out.value().matrix(rows, out.shape()[1]);
  }
  model.net->set_training(was_training);
  return z;
}

eval::RowMatrix embed_split(Model& model, const Split& split, const datasets::AugmentConfig& normalization,
                            int64_t batch) {
  return embed_rows(model, split, normalization, 0, split.size(), batch);
}

eval::RowMatrix embed_split(Model& model, const Split& split, const datasets::AugmentConfig& normalization,
                            const dist::Communicator& comm, int64_t batch) {
  if (comm.size() == 1) return embed_split(model, split, normalization, batch);
  const int64_t n = split.size();
  const datasets::BatchPart mine = datasets::batch_part(n, comm.rank(), comm.size());
  const eval::RowMatrix part = mine.count > 0 ? embed_rows(model, split, normalization, mine.first, mine.count, batch)
                                              : eval::RowMatrix();
  // A rank with no rows (fewer samples than ranks) learns the width from the others.
  int64_t width = 0;
  for (const int64_t w : comm.allgather_value<int64_t>(part.cols())) width = std::max(width, w);
  std::vector<int64_t> counts(size_t(comm.size()));
  for (int r = 0; r < comm.size(); ++r) counts[size_t(r)] = datasets::batch_part(n, r, comm.size()).count * width;
  eval::RowMatrix z(n, width);
  comm.allgatherv(std::span<const float>(part.data(), size_t(part.size())), std::span<const int64_t>(counts),
                  std::span<float>(z.data(), size_t(z.size())));
  return z;
}

}  // namespace torus::train
