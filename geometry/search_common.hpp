// What the code searches share (internal to geometry, not installed): the per-query driver of
// the portable and Hamming searches, the column-major copy they scan, the int32 overflow check of
// the byte searches, and the cos/sin bytes of the dot search.
#pragma once

#include "geometry/omp_pragma.hpp"
#include "geometry/top_k.hpp"
#include "geometry/uint8_codes.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace torus::geometry::detail {

// References scored per block: the int32 score buffer (4 KB) stays in L1 while the top-k filter
// reads it back.
inline constexpr Eigen::Index kRefBlock = 1024;

// The driver of the portable code searches and the Hamming search. make() is called once per
// thread and returns a scorer with start(query) and score(n0, n1, out), which writes the scores
// of references n0..n1-1 to out[0..n1-n0) and either returns nothing or the best of them. Each
// query runs start once, then the blocks in reference order.
template <typename S, Nearer nearer, typename MakeScorer>
KnnResult<S> search_each_query(Eigen::Index Nq, Eigen::Index Nr, int k, int threads, const MakeScorer& make) {
  KnnResult<S> result;
  result.indices.resize(Nq, k);
  result.scores.resize(Nq, k);
  static_cast<void>(threads);  // without OpenMP
TORUS_GEOMETRY_OMP(parallel num_threads(threads))
  {
    auto scorer = make();
    TopK<S, nearer> top(k);
    std::vector<S> buffer(static_cast<std::size_t>(kRefBlock));
TORUS_GEOMETRY_OMP(for schedule(dynamic, 16))
    for (Eigen::Index i = 0; i < Nq; ++i) {
      top.clear();
      scorer.start(i);
      for (Eigen::Index n0 = 0; n0 < Nr; n0 += kRefBlock) {
        const Eigen::Index n1 = std::min(Nr, n0 + kRefBlock);
        if constexpr (std::is_void_v<decltype(scorer.score(n0, n1, buffer.data()))>) {
          scorer.score(n0, n1, buffer.data());
          top.push_block(buffer.data(), n1 - n0, n0);
        } else {  // the scorer also returns the block's best score
          const S best = scorer.score(n0, n1, buffer.data());
          top.push_block(buffer.data(), n1 - n0, n0, best);
        }
      }
      top.write(result, i);
    }
  }
  return result;
}

// Row-major (N, K) copied column-major (K, N): column k of all references is contiguous, the
// layout the portable loops vectorise over references in.
template <typename T>
std::vector<T> column_major(const Eigen::Ref<const RowMatrix<T>>& x) {
  const Eigen::Index N = x.rows(), K = x.cols();
  std::vector<T> out(static_cast<std::size_t>(K * N));
  for (Eigen::Index n = 0; n < N; ++n)
    for (Eigen::Index k = 0; k < K; ++k) out[static_cast<std::size_t>(k * N + n)] = x(n, k);
  return out;
}

// Each circle's code c as two bytes, LUT[c] + bias and LUT[c - 64] + bias mod 256 (amplitude <=
// 127): A cos and A sin of its angle (sin x = cos(x - pi/2), so the sine needs no table of its
// own), int8 values for bias 0.
class CosSinBytes {
 public:
  CosSinBytes(const CosineLut& lut, int bias) {
    for (int j = 0; j < 256; ++j) {
      cos_[static_cast<std::size_t>(j)] = static_cast<std::uint8_t>(lut[static_cast<std::uint8_t>(j)] + bias);
      sin_[static_cast<std::size_t>(j)] = static_cast<std::uint8_t>(lut[static_cast<std::uint8_t>(j - 64)] + bias);
    }
  }
  // Row n of codes (K circles) as 2K bytes at out.
  void row(const Eigen::Ref<const CodeMatrix>& codes, Eigen::Index n, std::uint8_t* out) const {
    for (Eigen::Index c = 0; c < codes.cols(); ++c) {
      out[2 * c] = cos_[codes(n, c)];
      out[2 * c + 1] = sin_[codes(n, c)];
    }
  }
  // All rows: (N, K) -> (N, 2K).
  CodeMatrix rows(const Eigen::Ref<const CodeMatrix>& codes) const {
    CodeMatrix out(codes.rows(), 2 * codes.cols());
    for (Eigen::Index n = 0; n < codes.rows(); ++n) row(codes, n, out.row(n).data());
    return out;
  }

 private:
  std::array<std::uint8_t, 256> cos_{}, sin_{};
};

// A K-circle int32 sum cannot overflow if K * bound fits.
inline void check_byte_sum(const char* what, Eigen::Index K, std::int64_t bound) {
  if (K * bound > std::numeric_limits<std::int32_t>::max()) {
    throw std::invalid_argument(std::string(what) + ": K = " + std::to_string(K) + " circles overflow the int32 score");
  }
}

}  // namespace torus::geometry::detail
