// Running a trained network over a split: z, the head's output in its training space (sphere unit
// vectors, torusN unit pairs, torusC coordinates mod 1, spherization points on the sphere of
// radius r, none raw), in evaluation mode. The spaces z is then read in (evaluated, angles) are
// train/eval/evaluated_space.hpp's.
#pragma once

#include "train/data_source.hpp"
#include "train/eval/precision.hpp"
#include "train/model_factory.hpp"

namespace torus::train {

// z for every sample of the split, in evaluation mode, `batch` samples at a time.
eval::RowMatrix embed_split(Model& model, const Split& split, const datasets::AugmentConfig& normalization,
                            int64_t batch = 1024);

}  // namespace torus::train
