// The spaces a head's outputs z are read in (method.md 3.4, 7 and 12), for every tool that
// measures embeddings (torus-eval, torus-quant-eval, the trainer's per-epoch precision@1,
// torus-export --check):
//   evaluated  what inner products are taken on: z for sphere and torusN (whose inner product is
//              the sum of the circles' cosines), the Clifford vectors [cos 2 pi z, sin 2 pi z] for
//              torusC, z / |z| for spherization, raw z for none;
//   angles     torusN: each pair's angle in turns [0, 1) (D/2 per row); torusC: z itself.
// torus-quant-eval quantises the torus heads in their angles and the sphere as is; the angles are
// then read through torusC's evaluated space, since angles in turns are torusC coordinates.
// Nothing here runs a network (train/embedding.hpp does).
#pragma once

#include "nn/head_mode.hpp"
#include "train/eval/precision.hpp"

namespace torus::eval {

RowMatrix evaluated_space(const RowMatrix& z, nn::HeadMode mode);

// torusN and torusC only (throws otherwise).
RowMatrix torus_angles(const RowMatrix& z, nn::HeadMode mode);

// The heads torus-quant-eval has a table for: sphere, torusN, torusC.
bool has_quantisation_table(nn::HeadMode mode);

// What torus-quant-eval quantises: torus_angles for the torus heads, z for the sphere.
RowMatrix quantisation_space(const RowMatrix& z, nn::HeadMode mode);

// The evaluated space of rows u of quantisation_space (or of their dequantised values): the
// Clifford vectors of the angles for the torus heads, u for the sphere.
RowMatrix evaluated_space_of_quantised(const RowMatrix& u, nn::HeadMode mode);

}  // namespace torus::eval
