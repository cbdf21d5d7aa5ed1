// A small synthetic image task for tests and demonstrations that must not need downloaded data:
// each class is a fixed random arrangement of bright blocks on a dark square; a sample is its
// class pattern shifted by a few pixels with Gaussian noise added. Everything is derived from
// (seed, index, view), so two views of one index are two augmentations of the same image.
#pragma once

#include <cstdint>
#include <vector>

namespace torus::datasets {

struct SyntheticShapes {
  int classes = 4;
  int size = 28;         // images are (1, size, size)
  int blocks = 6;        // bright 4x4 blocks per class pattern
  int max_shift = 2;     // pixels, in each direction
  double noise = 0.3;    // standard deviation
  uint64_t seed = 0;

  int label(int64_t index) const { return int(index % classes); }
  // Writes size * size pixels of sample `index`, view `view` (roughly zero mean, unit scale).
  void render(int64_t index, int view, float* pixels) const;
  // (count, 1, size, size) pixels of samples first..first+count-1 in one view, and their labels.
  void batch(int64_t first, int64_t count, int view, std::vector<float>& pixels, std::vector<int>& labels) const;
};

}  // namespace torus::datasets
