// Running a trained network over a split, and the spaces its outputs are read in (method.md 3.4
// and 7):
//   z          the head's output in its training space: sphere unit vectors, torusN unit pairs,
//              torusC coordinates mod 1, spherization points on the sphere of radius r, none raw;
//   evaluated  what inner products are taken on: z for sphere and torusN (whose inner product is
//              the sum of the circles' cosines), the Clifford vectors [cos 2 pi z, sin 2 pi z] for
//              torusC, z / |z| for spherization, raw z for none;
//   angles     torusN: each pair's angle in turns [0, 1) (D/2 per row); torusC: z itself.
#pragma once

#include "nn/head_mode.hpp"
#include "train/data_source.hpp"
#include "train/model_factory.hpp"
#include "train/eval/precision.hpp"

namespace torus::train {

// z for every sample of the split, in evaluation mode, `batch` samples at a time.
eval::RowMatrix embed_split(Model& model, const Split& split, const datasets::AugmentConfig& normalization,
                            int64_t batch = 1024);

eval::RowMatrix evaluated_space(const eval::RowMatrix& z, nn::HeadMode mode);

// torusN and torusC only (throws otherwise).
eval::RowMatrix torus_angles(const eval::RowMatrix& z, nn::HeadMode mode);

}  // namespace torus::train
