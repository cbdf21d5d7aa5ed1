// One uint8 per circle (method.md 9 "8bit", 12): q = floor(256 u) mod 256 on the fixed range
// [0, 1), so uint8 overflow is the wraparound of the circle. Wrapped differences, the cosine
// look-up similarity that reproduces the Clifford inner product on q/256, and circular L1, all in
// integers so they port to a microcontroller as they are. No data-dependent ranges (the
// reference's gridquant min/max: grid_quantizer.hpp), no 1-bit codes (one_bit_codes.hpp), no PQ
// (product_quantizer.hpp, circular_pq.hpp); k-NN search over these codes is in code_search.hpp.
#pragma once

#include "geometry/row_matrix.hpp"

#include <array>
#include <cstdint>

namespace torus::geometry {

// floor(256 u) mod 256 for any finite u, exactly (u = -1e-20 gives 255, u = 1 gives 0).
// Throws std::invalid_argument for a non-finite u.
template <typename T>
std::uint8_t encode_angle(T u);

// q / 256, the left end of the code's cell, in [0, 1).
template <typename T = double>
T decode_angle(std::uint8_t q);

// The same for whole (N, K) matrices.
template <typename T>
CodeMatrix encode_angles(const Eigen::Ref<const RowMatrix<T>>& u);
template <typename T>
RowMatrix<T> decode_angles(const Eigen::Ref<const CodeMatrix>& q);

// The native codes of the two torus modes (method.md 12), whole matrices in one call.
// torusN: (N, D) pairwise-normalised z -> (N, D/2) codes floor(256 u) mod 256, u = unwrap_pairs(z)
// (atan2 of each (cos, sin) pair, in turns, in [0, 1)); throws for odd D.
// torusC: (N, D) raw coordinates h -> (N, D) codes floor(256 (h mod 1)); the mod is implied by the
// mod 256 of encode_angle, so h need not be wrapped first.
template <typename T>
CodeMatrix torusN_codes(const Eigen::Ref<const RowMatrix<T>>& z);
template <typename T>
CodeMatrix torusC_codes(const Eigen::Ref<const RowMatrix<T>>& h);

// The shortest signed step from b to a in code units, in [-128, 127] (a - b = 128 gives -128):
// 256 * wrapped_diff(a/256, b/256).
inline std::int8_t wrapped_code_diff(std::uint8_t a, std::uint8_t b) {
  // uint8_t - uint8_t is int arithmetic; the uint8_t cast restores the mod-256 wrap and the int8_t
  // cast (modular since C++20) recentres it.
  return static_cast<std::int8_t>(static_cast<std::uint8_t>(a - b));
}

// sum_k |wrapped_code_diff(a_k, b_k)|, with -128 counted as 128, over K codes.
std::int32_t circular_l1(const std::uint8_t* a, const std::uint8_t* b, int K);

// LUT[j] = round(A cos(2 pi j / 256)) in int16. similarity(a, b, K) = sum_k LUT[uint8(a_k - b_k)]
// in int32, which is A times the Clifford inner product of a/256 and b/256 up to K/2 of rounding;
// the chordal distance is ||c_a - c_b||^2 = 2K - 2 S / A.
class CosineLut {
 public:
  // 1 <= amplitude <= 32767 (int16); 127 also fits an int8 table.
  explicit CosineLut(int amplitude = 127);

  int amplitude() const { return amplitude_; }
  std::int16_t operator[](std::uint8_t j) const { return table_[j]; }
  const std::array<std::int16_t, 256>& table() const { return table_; }

  // Throws if K < 0 or if K * A could overflow the int32 sum.
  std::int32_t similarity(const std::uint8_t* a, const std::uint8_t* b, int K) const;

 private:
  int amplitude_;
  std::array<std::int16_t, 256> table_;
};

}  // namespace torus::geometry
