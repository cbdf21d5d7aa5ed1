// IEEE 754 binary16 ("half") storage of embeddings: 16 bits per value, the obvious baseline
// between float and the 8-bit codes. The conversion is our own bit arithmetic rather than
// _Float16, so it is the same on every compiler and target (the tests check it against _Float16
// where the compiler has it). float -> half rounds to nearest, ties to even, like a hardware
// conversion: values from 65520 up become infinity, values below 2^-25 become (signed) zero,
// subnormal halves are produced and read exactly, NaN stays NaN (quiet, sign and the top payload
// bits kept). half -> float is exact.
#pragma once

#include "geometry/row_matrix.hpp"

#include <cstdint>

namespace torus::geometry {

// The binary16 bit pattern nearest to x (ties to even).
std::uint16_t float_to_half_bits(float x);

// The value of a binary16 bit pattern, exactly.
float half_bits_to_float(std::uint16_t h);

// x rounded to the nearest half and back: half_bits_to_float(float_to_half_bits(x)).
inline float round_to_half(float x) { return half_bits_to_float(float_to_half_bits(x)); }

// The same for whole (N, M) matrices.
RowMatrix<std::uint16_t> encode_half(const Eigen::Ref<const RowMatrix<float>>& x);
RowMatrix<float> decode_half(const Eigen::Ref<const RowMatrix<std::uint16_t>>& h);
RowMatrix<float> half_round_trip(const Eigen::Ref<const RowMatrix<float>>& x);

}  // namespace torus::geometry
