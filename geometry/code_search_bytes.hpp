// What the SIMD uint8 searches share (internal to geometry, not installed): the dword-major index
// they scan, the queries' bytes and biases, the top-k offers of the lanes that beat a threshold,
// and the driver that splits query groups over threads. The AVX-512 kernels
// (code_search_avx512.cpp) and the AVX2 ones (code_search_avx2.cpp) differ only in how they score
// one group of queries against every reference.
#pragma once

#include "geometry/omp_pragma.hpp"
#include "geometry/top_k.hpp"
#include "geometry/uint8_codes.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

namespace torus::geometry::detail {

enum class ByteKernel { lut, l1, dot };

constexpr Nearer nearer_for(ByteKernel kind) { return kind == ByteKernel::l1 ? Nearer::smaller : Nearer::larger; }

// Queries scored together against each load of references: the loads are shared and the
// independent accumulation chains keep the vector units busy (2 or 8 measured no faster).
constexpr int kQueryGroup = 4;

// Byte rows stored dword-major: dword w of row n at [w stride + n], stride = N rounded up to 16,
// from a 64-byte aligned start, so one aligned load holds dword w of 16 (zmm) or 8 (ymm)
// consecutive rows. Built in place from row_bytes(n, out), which writes row n's 4 W bytes: a fresh
// page costs a page fault, more than filling it does, so the index is the only large buffer. The
// rows past N hold zeros (the kernels mask them out).
class DwordMajorRows {
 public:
  template <typename RowBytes>
  DwordMajorRows(Eigen::Index rows, Eigen::Index dwords, const RowBytes& row_bytes)
      : dwords_(dwords), rows_(rows), stride_((rows + 15) / 16 * 16),
        storage_(static_cast<std::size_t>(dwords * stride_ + 15)) {
    // 15 spare dwords: enough to move the start to the next 64-byte boundary.
    const auto misalignment = reinterpret_cast<std::uintptr_t>(storage_.data()) % 64;
    data_ = storage_.data() + (64 - misalignment) % 64 / sizeof(std::uint32_t);
    std::vector<std::uint32_t> row(static_cast<std::size_t>(dwords));
    for (Eigen::Index n = 0; n < rows_; ++n) {
      row_bytes(n, reinterpret_cast<std::uint8_t*>(row.data()));
      for (Eigen::Index w = 0; w < dwords_; ++w) data_[w * stride_ + n] = row[static_cast<std::size_t>(w)];
    }
  }
  // data_ points into storage_: a copy would point into the original; a move takes the buffer along.
  DwordMajorRows(const DwordMajorRows&) = delete;
  DwordMajorRows& operator=(const DwordMajorRows&) = delete;
  DwordMajorRows(DwordMajorRows&&) = default;

  Eigen::Index dwords() const { return dwords_; }
  Eigen::Index rows() const { return rows_; }
  Eigen::Index stride() const { return stride_; }
  const std::uint32_t* data() const { return data_; }

 private:
  Eigen::Index dwords_, rows_, stride_;
  std::vector<std::uint32_t> storage_;
  std::uint32_t* data_;
};

// One uint8 search ready for a SIMD kernel: the references' bytes, the queries' bytes row-major
// (W dwords a row, whole groups of kQueryGroup, the rows added zero), each query's bias (what its
// lanes hold beyond the score), all from row_bytes(which, n, out), which writes row n of the
// queries (which = 0) or references (1) as 4 W bytes; and the LUT kernels' table.
struct ByteSearch {
  template <typename RowBytes>
  ByteSearch(Eigen::Index Nq, Eigen::Index Nr, Eigen::Index W, const RowBytes& row_bytes)
      : refs(Nr, W, [&](Eigen::Index n, std::uint8_t* out) { row_bytes(1, n, out); }),
        queries(static_cast<std::size_t>(whole_groups(Nq) * W)),
        bias(static_cast<std::size_t>(whole_groups(Nq))) {
    for (Eigen::Index i = 0; i < Nq; ++i) row_bytes(0, i, reinterpret_cast<std::uint8_t*>(queries.data() + i * W));
  }

  static Eigen::Index whole_groups(Eigen::Index rows) { return (rows + kQueryGroup - 1) / kQueryGroup * kQueryGroup; }

  DwordMajorRows refs;
  std::vector<std::uint32_t> queries;  // (whole groups, W)
  std::vector<std::int32_t> bias;      // one per query row
  // AVX-512: LUT[0..127]. AVX2: four vpshufb tables over S[u] = LUT[64 - u], u = 0..63, the
  // second to fourth XORed with the one before (code_search_avx2.cpp).
  alignas(64) std::int8_t table[128] = {};
};

// Whether the SIMD LUT kernels are exact for this table: int8 entries, even (LUT[256 - j] =
// LUT[j]), zero at the quarter turn (LUT[64] = 0, also the AVX-512 padding) and flat at the half
// turn (LUT[127] = LUT[128], which by the table's odd symmetry about 64 is LUT[1] = LUT[0]).
bool lut_fits_int8_kernels(const CosineLut& lut);

// The searches' bytes. LUT and circular L1: the codes themselves, padded (the query with
// `query_pad`, the reference with 0) to whole dwords. The cosine dot product: 2K cos/sin bytes,
// the references' biased by ref_bias (0 or 128) mod 256, the queries' int8; each query's bias is
// ref_bias times the sum of its int8 bytes.
ByteSearch code_bytes(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                      std::uint8_t query_pad);
ByteSearch dot_bytes(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                     const CosineLut& lut, int ref_bias);

// The threshold a query's biased lanes must beat: its top-k threshold plus its bias, held to the
// int32 range (a list not yet full has the least or greatest int32, which no lane can reach, as
// every lane lies strictly inside the int32 range: check_byte_sum).
template <Nearer nearer>
std::int32_t biased_threshold(const TopK<std::int32_t, nearer>& top, std::int32_t bias) {
  const std::int64_t t = std::int64_t{top.threshold()} + bias;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(t, std::numeric_limits<std::int32_t>::min(),
                                                            std::numeric_limits<std::int32_t>::max()));
}

// Offers the lanes of one group of references (biased scores, first index `first`) set in
// `lanes`, in index order, and returns the query's new biased threshold.
template <Nearer nearer>
std::int32_t offer_lanes(TopK<std::int32_t, nearer>& top, std::int32_t bias, const std::int32_t* biased, unsigned lanes,
                         Eigen::Index first) {
  for (; lanes != 0; lanes &= lanes - 1) {
    const int j = std::countr_zero(lanes);
    top.push(biased[j] - bias, first + j);
  }
  return biased_threshold(top, bias);
}

// Scores query group g (queries g kQueryGroup ...) against every reference and offers them to its
// kQueryGroup top-k lists in reference order.
template <ByteKernel kind>
using ByteScanFn = void (*)(const ByteSearch&, Eigen::Index g, TopK<std::int32_t, nearer_for(kind)>* tops);

// OpenMP threads split the query groups; scan(g, tops) scores group g against every reference, and
// a query's result does not depend on the others of its group, so results are identical at any
// thread count. (Tiling the references so that a tile is read from L1 by many groups measured no
// faster: the whole index, 16 bytes a reference at most for K = 8, streams from L2.)
template <Nearer nearer, typename Scan>
KnnResult<std::int32_t> group_search(Eigen::Index Nq, int k, int threads, const Scan& scan) {
  const Eigen::Index groups = (Nq + kQueryGroup - 1) / kQueryGroup;
  KnnResult<std::int32_t> result;
  result.indices.resize(Nq, k);
  result.scores.resize(Nq, k);
  static_cast<void>(threads);  // without OpenMP
TORUS_GEOMETRY_OMP(parallel num_threads(threads))
  {
    std::vector<TopK<std::int32_t, nearer>> tops(kQueryGroup, TopK<std::int32_t, nearer>(k));
TORUS_GEOMETRY_OMP(for schedule(dynamic, 4))
    for (Eigen::Index g = 0; g < groups; ++g) {
      for (auto& top : tops) top.clear();
      scan(g, tops.data());
      for (Eigen::Index j = 0; j < kQueryGroup && g * kQueryGroup + j < Nq; ++j)
        tops[static_cast<std::size_t>(j)].write(result, g * kQueryGroup + j);
    }
  }
  return result;
}

template <ByteKernel kind>
KnnResult<std::int32_t> byte_search(const ByteSearch& s, Eigen::Index Nq, int k, int threads, ByteScanFn<kind> scan) {
  return group_search<nearer_for(kind)>(Nq, k, threads,
                                        [&](Eigen::Index g, TopK<std::int32_t, nearer_for(kind)>* tops) { scan(s, g, tops); });
}

// Hamming distances of references n0..n1-1 (n1 - n0 a multiple of 16, > 0) of the word-major
// (W, Nr) layout against query words q, into out; returns the least. Picked for W words a row.
using HammingFn = std::int32_t (*)(const std::uint64_t* q, const std::uint64_t* refs, Eigen::Index Nr, Eigen::Index W,
                                   Eigen::Index n0, Eigen::Index n1, std::int32_t* out);

}  // namespace torus::geometry::detail
