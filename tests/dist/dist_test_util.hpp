// What the dist tests share: the run's communicator (made by dist_main.cpp's Session) and a
// relative comparison of tensors.
#pragma once

#include "nn/dist/global_batch.hpp"

#include "autodiff/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace torus::testing {

const dist::Communicator& world();

// max |a - b| / max |reference|: the error against the scale of the tensor, so entries that
// cancel to near zero do not make a float comparison meaningless.
template <typename T>
double relative_error(const Tensor<T>& a, const Tensor<T>& reference) {
  if (a.shape() != reference.shape()) return INFINITY;
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(reference[i])));
    scale = std::max(scale, std::abs(double(reference[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace torus::testing
