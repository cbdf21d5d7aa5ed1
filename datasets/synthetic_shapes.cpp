#include "datasets/synthetic_shapes.hpp"

#include <random>
#include <stdexcept>

namespace torus::datasets {

void SyntheticShapes::render(int64_t index, int view, float* pixels) const {
  if (classes < 1 || size < 8 || blocks < 1) throw std::invalid_argument("SyntheticShapes: need classes >= 1, size >= 8, blocks >= 1");
  const int c = label(index);
  // the class pattern: block corners from (seed, class) only
  std::mt19937_64 pattern_rng(seed * 7919 + uint64_t(c) * 104729 + 17);
  std::uniform_int_distribution<int> corner(2, size - 6);
  std::vector<std::pair<int, int>> corners(blocks);
  for (auto& [y, x] : corners) {
    y = corner(pattern_rng);
    x = corner(pattern_rng);
  }
  // this sample's shift and noise: from (seed, index, view)
  std::mt19937_64 rng(seed * 1000003 + uint64_t(index) * 2 + uint64_t(view) + 99991);
  std::uniform_int_distribution<int> shift(-max_shift, max_shift);
  const int dy = shift(rng), dx = shift(rng);
  std::normal_distribution<double> gauss(0.0, noise);
  for (int i = 0; i < size * size; ++i) pixels[i] = float(gauss(rng)) - 0.5f;
  for (const auto& [y, x] : corners)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const int yy = y + dy + i, xx = x + dx + j;
        if (yy >= 0 && yy < size && xx >= 0 && xx < size) pixels[yy * size + xx] += 2.0f;
      }
}

void SyntheticShapes::batch(int64_t first, int64_t count, int view, std::vector<float>& pixels,
                            std::vector<int>& labels) const {
  pixels.resize(size_t(count) * size * size);
  labels.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    render(first + i, view, pixels.data() + i * size * size);
    labels[i] = label(first + i);
  }
}

}  // namespace torus::datasets
