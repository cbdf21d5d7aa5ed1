#include "geometry/one_bit_codes.hpp"

#include "geometry/clifford_torus.hpp"
#include "geometry/flat_torus.hpp"

#include <stdexcept>
#include <string>

namespace torus::geometry {

namespace {
Eigen::Index words_for(Eigen::Index D) { return (D + 63) / 64; }
}  // namespace

BitCodeMatrix pack_bits(const Eigen::Ref<const CodeMatrix>& bits) {
  BitCodeMatrix w = BitCodeMatrix::Zero(bits.rows(), words_for(bits.cols()));  // (N, W)
  for (Eigen::Index n = 0; n < bits.rows(); ++n) {
    for (Eigen::Index d = 0; d < bits.cols(); ++d) {
      const std::uint8_t b = bits(n, d);
      if (b > 1) {
        throw std::invalid_argument("pack_bits: value " + std::to_string(b) + " at row " + std::to_string(n) +
                                    ", column " + std::to_string(d) + " is not a bit");
      }
      w(n, d / 64) |= static_cast<std::uint64_t>(b) << (d % 64);
    }
  }
  return w;
}

CodeMatrix unpack_bits(const Eigen::Ref<const BitCodeMatrix>& words, Eigen::Index D) {
  if (D < 0 || D > 64 * words.cols()) {
    throw std::invalid_argument("unpack_bits: " + std::to_string(D) + " bits do not fit " +
                                std::to_string(words.cols()) + " words");
  }
  CodeMatrix bits(words.rows(), D);  // (N, D)
  for (Eigen::Index n = 0; n < words.rows(); ++n)
    for (Eigen::Index d = 0; d < D; ++d) bits(n, d) = static_cast<std::uint8_t>((words(n, d / 64) >> (d % 64)) & 1u);
  return bits;
}

template <typename T>
BitCodeMatrix one_bit_codes(const GridQuantizer& grid, const Eigen::Ref<const RowMatrix<T>>& x) {
  if (grid.bits() != 1) throw std::invalid_argument("one_bit_codes: the grid has " + std::to_string(grid.bits()) + " bits, not 1");
  const RowMatrix<std::int32_t> q = grid.encode<T>(x);  // in {..., -1, 0, 1}
  return pack_bits(q.unaryExpr([](std::int32_t c) { return static_cast<std::uint8_t>(c >= 1); }));
}

template <typename T>
RowMatrix<T> torusN_one_bit_space(const Eigen::Ref<const RowMatrix<T>>& z) {
  return clifford_project<T>(unwrap_pairs<T>(z));
}

template <typename T>
RowMatrix<T> torusC_one_bit_space(const Eigen::Ref<const RowMatrix<T>>& h) {
  return h.unaryExpr([](T v) { return wrap01(v); });
}

GridQuantizer quadrant_grid(Eigen::Index D) {
  // s = 2 / (1 - (-1)) = 1 and q = min(floor(x + 1), 1): 0 on [-1, 0), 1 on [0, 1].
  return GridQuantizer(ArrayX<double>::Constant(D, -1.0), ArrayX<double>::Constant(D, 1.0), 1);
}

GridQuantizer half_circle_grid(Eigen::Index D) {
  // s = 2 and q = min(floor(2 u), 1): 0 on [0, 1/2), 1 on [1/2, 1).
  return GridQuantizer(ArrayX<double>::Constant(D, 0.0), ArrayX<double>::Constant(D, 1.0), 1);
}

template BitCodeMatrix one_bit_codes<float>(const GridQuantizer&, const Eigen::Ref<const RowMatrix<float>>&);
template BitCodeMatrix one_bit_codes<double>(const GridQuantizer&, const Eigen::Ref<const RowMatrix<double>>&);
template RowMatrix<float> torusN_one_bit_space<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> torusN_one_bit_space<double>(const Eigen::Ref<const RowMatrix<double>>&);
template RowMatrix<float> torusC_one_bit_space<float>(const Eigen::Ref<const RowMatrix<float>>&);
template RowMatrix<double> torusC_one_bit_space<double>(const Eigen::Ref<const RowMatrix<double>>&);

}  // namespace torus::geometry
