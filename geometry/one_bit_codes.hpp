// 1-bit codes (method.md 9 "1bit", 12) packed 64 to a word for XOR + popcount search.
//
// Every mode is the reference's grid quantiser with b = 1 on some D-dimensional space, so the bit
// is [x >= (m + M) / 2], the midrange of the training data per dimension, not the sign:
//   - torusN: the space is the Clifford map of the unwrapped angles, torusN_one_bit_space(z) =
//     clifford_project(unwrap_pairs(z)), D values in [-1, 1] in block order (all cosines, then all
//     sines). Each circle gets two bits, (nearly) the signs of cos and sin: a quadrant code.
//   - torusC: the space is h mod 1 (torusC_one_bit_space), one half-circle bit per coordinate.
//   - sphere: z itself, (nearly) the sign of each coordinate.
// Fit the range with GridQuantizer::fit<T>(space_of_training_set, 1). The fixed-range grids below
// (quadrant at exactly 0, half circle at exactly 1/2) are our data-free variant [D], the 1-bit
// analogue of the fixed [0, 1) range of the uint8 codes.
//
// Clifford-mapping the values 0 -> +1 and 1/2 -> -1, as the reference's evaluation does, turns
// the inner product of two codes into D - 2 popcount(a XOR b), so Hamming distance ranks the same.
//
// Deviation [D]: a test value below the training minimum has grid code -1; the reference
// evaluates it as the value -1/2, which the periodic Clifford map of the torus modes treats like
// +1/2 (bit 1), and the sphere's L2 as a third level. Here every code <= 0 is bit 0, i.e. the bit
// is simply [x >= threshold], the nearest of the two levels.
#pragma once

#include "geometry/grid_quantizer.hpp"
#include "geometry/row_matrix.hpp"

#include <bit>
#include <cstdint>

namespace torus::geometry {

// (N, D) bits of value 0 or 1 -> (N, ceil(D / 64)) words; throws for any other value.
BitCodeMatrix pack_bits(const Eigen::Ref<const CodeMatrix>& bits);

// The inverse: the first D bits of each row as (N, D) 0/1 bytes. Throws if D > 64 W.
CodeMatrix unpack_bits(const Eigen::Ref<const BitCodeMatrix>& words, Eigen::Index D);

// Bit d = [grid code of x_d >= 1], packed. Throws unless grid.bits() == 1 (and as encode does).
template <typename T>
BitCodeMatrix one_bit_codes(const GridQuantizer& grid, const Eigen::Ref<const RowMatrix<T>>& x);

// torusN: (N, D) pairwise-normalised z -> (N, D) Clifford values of its angles, block order.
template <typename T>
RowMatrix<T> torusN_one_bit_space(const Eigen::Ref<const RowMatrix<T>>& z);

// torusC: (N, D) raw coordinates -> h mod 1 in [0, 1).
template <typename T>
RowMatrix<T> torusC_one_bit_space(const Eigen::Ref<const RowMatrix<T>>& h);

// Fixed-range 1-bit grids [D]: range [-1, 1] (bit = value >= 0, the exact quadrant code on the
// torusN space) and [0, 1] (bit = h mod 1 >= 1/2), for D dimensions.
GridQuantizer quadrant_grid(Eigen::Index D);
GridQuantizer half_circle_grid(Eigen::Index D);

// popcount(a XOR b) over W words.
inline std::int32_t hamming_distance(const std::uint64_t* a, const std::uint64_t* b, Eigen::Index W) {
  std::int32_t s = 0;
  for (Eigen::Index w = 0; w < W; ++w) s += std::popcount(a[w] ^ b[w]);
  return s;
}

}  // namespace torus::geometry
