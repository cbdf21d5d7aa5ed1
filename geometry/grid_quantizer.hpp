// The reference's scalar grid quantiser `gridquant` (method.md 9): b bits per dimension on a
// per-dimension range [m, M] fitted on the reference (training) set,
//
//   V = 2^b,  s = V / (M - m),  q = min(floor((x - m) s), V - 1),  value = q / V.
//
// Codes are clipped only at the top, as in the reference: a test value below the training minimum
// gets a negative code (-1 just below m, further down for values further away), which is why codes
// are int32 and not uint8. For the torus modes that is harmless (the value q / V is then
// Clifford-mapped, which is periodic); for the sphere it is what the paper evaluates.
//
// Uses: the sphere's `8bit` mode (b = 8) and every `1bit` mode (b = 1, see one_bit_codes.hpp).
// The torus modes' 8-bit codes should use the fixed range [0, 1) instead (uint8_codes.hpp), which
// is exactly periodic; a GridQuantizer with m = 0, M = 1 gives the same codes for u in [0, 1).
//
// Deviation [D]: s, x - m and the floor are computed in double; the reference works in the
// embedding's float32, so a value within a float rounding of a cell boundary may land one cell
// apart.
#pragma once

#include "geometry/row_matrix.hpp"

#include <cstdint>

namespace torus::geometry {

class GridQuantizer {
 public:
  // m = column minimum, M = column maximum of reference (N, D), N >= 1. Throws
  // std::invalid_argument naming the first dimension with M == m ("collapsed range"), or holding
  // a non-finite value. bits in [1, 16].
  template <typename T>
  static GridQuantizer fit(const Eigen::Ref<const RowMatrix<T>>& reference, int bits);

  // From a known range, e.g. [0, 1] per coordinate for torusC or [-1, 1] for Clifford values.
  // The same collapsed-range check (and minimum < maximum, both finite).
  GridQuantizer(ArrayX<double> minimum, ArrayX<double> maximum, int bits);

  int bits() const { return bits_; }
  int levels() const { return 1 << bits_; }  // V
  Eigen::Index dim() const { return minimum_.size(); }
  const ArrayX<double>& minimum() const { return minimum_; }
  const ArrayX<double>& maximum() const { return maximum_; }

  // (N, D) -> (N, D) codes q <= V - 1 (negative below the fitted minimum). Throws for a column
  // count other than dim(), for a non-finite x, and for a code below the int32 range.
  template <typename T>
  RowMatrix<std::int32_t> encode(const Eigen::Ref<const RowMatrix<T>>& x) const;

  // The value the reference evaluates with, q / V (in [0, 1) for codes of in-range values).
  RowMatrix<float> values(const Eigen::Ref<const RowMatrix<std::int32_t>>& q) const;

 private:
  ArrayX<double> minimum_, maximum_, scale_;  // scale_ = V / (M - m)
  int bits_;
};

}  // namespace torus::geometry
