// One output row of 2x2 stride-2 max pooling, forward and backward: shared by max_pool2d and the
// fused conv2d_max_pool2. Internal to nn (not installed).
#pragma once

#include <cstdint>

namespace torus::nn {

// best_row[ox] = the largest of top[2ox], top[2ox+1], bottom[2ox], bottom[2ox+1], the first in
// that order on ties; arg_row[ox] = its position 0..3 (stored in the element type).
void pool_row_2x2(const float* top, const float* bottom, float* best_row, float* arg_row, int64_t Wo);
void pool_row_2x2(const double* top, const double* bottom, double* best_row, double* arg_row, int64_t Wo);

// The backward: each window's four input gradients, d[ox] at position arg[ox] and 0 elsewhere,
// written (not added) into top and bottom.
void unpool_row_2x2(float* top, float* bottom, const float* d, const float* arg, int64_t Wo);
void unpool_row_2x2(double* top, double* bottom, const double* d, const double* arg, int64_t Wo);

}  // namespace torus::nn
