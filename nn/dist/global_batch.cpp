// gather_global_batch and the global SupCon + KoLeo built on it. No backward of their own: the
// all-gather and index_select carry the gradient back to each rank's rows.
#include "nn/dist/global_batch.hpp"

#include "nn/koleo.hpp"

namespace torus::dist {

template <typename T>
GlobalBatch<T> gather_global_batch(const Communicator& comm, const Var<T>& features, const std::vector<int>& labels,
                                   int views) {
  const int64_t n = int64_t(labels.size());
  if (views < 1 || features.shape().rank() != 2 || features.shape()[0] != views * n)
    throw ShapeError("gather_global_batch: features " + features.shape().str() + " do not hold " + std::to_string(views) +
                     " views of " + std::to_string(n) + " labelled rows");
  GlobalBatch<T> out;
  if (comm.size() == 1) {
    out.features = features;
    out.labels = labels;
    return out;
  }
  const std::vector<int64_t> images = gather_row_counts(comm, n);
  int64_t B = 0;
  std::vector<int64_t> first(images.size());  // (R) each rank's first image in the global batch
  for (size_t r = 0; r < images.size(); ++r) first[r] = B, B += images[r];
  out.offset = first[size_t(comm.rank())];
  out.labels = all_gather_labels(comm, labels);
  // Gathered, rank r's block holds its views one after the other: row first_r * views + v n_r + i
  // is image first_r + i in view v. The single-process order is view-major over the global batch.
  const Var<T> gathered = all_gather_rows(comm, features);  // (views * B, F) rank-major
  std::vector<int64_t> view_major(size_t(views * B));
  for (int64_t v = 0; v < views; ++v)
    for (size_t r = 0; r < images.size(); ++r)
      for (int64_t i = 0; i < images[r]; ++i)
        view_major[size_t(v * B + first[r] + i)] = first[r] * views + v * images[r] + i;
  out.features = index_select(gathered, view_major);
  return out;
}

template <typename T>
GlobalContrastiveLoss<T> global_supcon_koleo(const Communicator& comm, const Var<T>& features, const std::vector<int>& labels,
                                             int views, double scale, const nn::SupConOptions& supcon_options,
                                             double koleo_weight) {
  const GlobalBatch<T> batch = gather_global_batch(comm, features, labels, views);
  GlobalContrastiveLoss<T> out;
  out.supcon = nn::supcon_loss(batch.features, batch.labels, views, scale, supcon_options);
  out.loss = out.supcon.loss;
  if (koleo_weight > 0) {
    out.koleo = nn::koleo_loss(batch.features, views);  // nearest neighbours among the global batch
    out.loss = out.loss + out.koleo * koleo_weight;
  }
  return out;
}

#define TORUS_INSTANTIATE(T)                                                                                          \
  template GlobalBatch<T> gather_global_batch(const Communicator&, const Var<T>&, const std::vector<int>&, int);      \
  template GlobalContrastiveLoss<T> global_supcon_koleo(const Communicator&, const Var<T>&, const std::vector<int>&, int, \
                                                        double, const nn::SupConOptions&, double);
TORUS_INSTANTIATE(float)
TORUS_INSTANTIATE(double)
#undef TORUS_INSTANTIATE

}  // namespace torus::dist
