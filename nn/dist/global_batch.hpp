// The contrastive losses over the global batch of a data-parallel step: each rank's features and
// labels are gathered (features differentiably) and put back in the single-process order, so
// SupCon's positives and negatives and KoLeo's nearest neighbours range over every rank's rows.
// With the all-gather's summed backward and gradient averaging, the averaged parameter
// gradients equal those of one process on the whole batch (tests/dist checks it).
#pragma once

#include "datasets/batch_part.hpp"
#include "nn/dist/all_gather.hpp"
#include "nn/supcon.hpp"


namespace torus::dist {

// Rank r's part of a global batch of `items` images (datasets/batch_part.hpp: contiguous, in rank
// order; the loader of a data-parallel run builds exactly this part of every batch).
using RankSlice = datasets::BatchPart;
inline RankSlice rank_slice(int64_t items, int rank, int ranks) { return datasets::batch_part(items, rank, ranks); }

template <typename T>
struct GlobalBatch {
  Var<T> features;          // (views * B, F) view-major over the global batch, B = sum_r n_r
  std::vector<int> labels;  // (B) rank 0's images first, then rank 1's ...
  int64_t offset = 0;       // this rank's first image in the global batch
};

// features: (views * n_r, F) view-major on rank r (as contrastive_features gives them), labels: n_r.
// Rank r's images must be rows [offset_r, offset_r + n_r) of the global batch (contiguous slices
// in rank order, as rank_slice gives them). On one rank the features are returned as they are (no op is recorded).
template <typename T>
GlobalBatch<T> gather_global_batch(const Communicator& comm, const Var<T>& features, const std::vector<int>& labels,
                                   int views);

template <typename T>
struct GlobalContrastiveLoss {
  Var<T> loss;                 // supcon + koleo_weight * koleo, the same value on every rank
  nn::SupConLoss<T> supcon;    // over the global batch (its anchor counts are global)
  Var<T> koleo;                // unweighted; invalid when koleo_weight is 0
};

// SupCon plus koleo_weight times KoLeo (not computed when the weight is 0) over the global batch:
// what train_step computes on one process, on every rank's features at once. scale: the head's S.
template <typename T>
GlobalContrastiveLoss<T> global_supcon_koleo(const Communicator& comm, const Var<T>& features, const std::vector<int>& labels,
                                             int views, double scale, const nn::SupConOptions& supcon_options,
                                             double koleo_weight);

}  // namespace torus::dist
