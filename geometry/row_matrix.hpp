// Matrix aliases shared by the geometry kernels: one sample per row, row-major, so a row is a
// contiguous embedding that search and export can hand out as a plain pointer. Also the one
// helper that prints a shape for error messages. Holds no maths.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>

namespace torus::geometry {

// (N, M) samples by coordinates.
template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// (N, K) uint8 angle codes, one byte per circle (method.md 12).
using CodeMatrix = RowMatrix<std::uint8_t>;

// (N, W) packed 1-bit codes: bit d of a vector is bit d % 64 of word d / 64, and the unused high
// bits of the last word are zero, so popcount(a XOR b) over the W words is the Hamming distance.
using BitCodeMatrix = RowMatrix<std::uint64_t>;

// One value per circle or per column.
template <typename T>
using ArrayX = Eigen::Array<T, Eigen::Dynamic, 1>;

// "(N, M)", for exception messages.
inline std::string shape_string(Eigen::Index rows, Eigen::Index cols) {
  return std::string("(") + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

}  // namespace torus::geometry
