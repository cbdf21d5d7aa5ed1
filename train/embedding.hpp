// Running a trained network over a split: z, the head's output in its training space (sphere unit
// vectors, torusN unit pairs, torusC coordinates mod 1, spherization points on the sphere of
// radius r, none raw), in evaluation mode. The spaces z is then read in (evaluated, angles) are
// train/eval/evaluated_space.hpp's.
#pragma once

#include "nn/dist/communicator.hpp"
#include "train/data_source.hpp"
#include "train/eval/precision.hpp"
#include "train/model_factory.hpp"

namespace torus::train {

// z for every sample of the split, in evaluation mode, `batch` samples at a time.
eval::RowMatrix embed_split(Model& model, const Split& split, const datasets::AugmentConfig& normalization,
                            int64_t batch = 1024);

// z for samples [first, first + count) of the split (count >= 1), as embed_split computes them.
eval::RowMatrix embed_rows(Model& model, const Split& split, const datasets::AugmentConfig& normalization, int64_t first,
                           int64_t count, int64_t batch = 1024);

// embed_split spread over the ranks of a data-parallel run: each rank embeds its part of the
// split (datasets::batch_part) and every rank gets z for all of it. Collective. The rows equal
// embed_split's when every rank holds the same weights and batch-norm statistics.
eval::RowMatrix embed_split(Model& model, const Split& split, const datasets::AugmentConfig& normalization,
                            const dist::Communicator& comm, int64_t batch = 1024);

}  // namespace torus::train
