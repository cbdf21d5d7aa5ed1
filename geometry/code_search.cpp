#include "geometry/code_search.hpp"

#include "geometry/omp_pragma.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

// The AVX-512 kernels (F, BW, VBMI for the byte permute, VNNI for the byte dot products,
// VPOPCNTDQ) are compiled in when the target has them (-march=native here), and with GCC on
// x86-64 also in portable builds, under a target pragma, then chosen at run time by a CPU check:
// the default build (native off) still gets them on a machine that has them.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VBMI__) && defined(__AVX512VNNI__) && \
    defined(__AVX512VPOPCNTDQ__)
#define TORUS_AVX512_CODES 1
#define TORUS_AVX512_DISPATCH 0
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TORUS_AVX512_CODES 1
#define TORUS_AVX512_DISPATCH 1
#else
#define TORUS_AVX512_CODES 0
#define TORUS_AVX512_DISPATCH 0
#endif
#if TORUS_AVX512_CODES
#include <immintrin.h>
#endif

namespace torus::geometry {

bool avx512_search_kernels() {
#if TORUS_AVX512_DISPATCH
  static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vnni") &&
                                __builtin_cpu_supports("avx512vpopcntdq");
  return available;
#else
  return TORUS_AVX512_CODES != 0;
#endif
}

namespace {

// References scored per block: the int32 score buffer (4 KB) stays in L1 while the top-k filter
// reads it back.
constexpr Eigen::Index kRefBlock = 1024;

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

// ---- layouts ---------------------------------------------------------------------------------

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
void check_byte_sum(const char* what, Eigen::Index K, std::int64_t bound) {
  if (K * bound > std::numeric_limits<std::int32_t>::max()) {
    throw std::invalid_argument(std::string(what) + ": K = " + std::to_string(K) + " circles overflow the int32 score");
  }
}

// ---- uint8 torus codes: portable ---------------------------------------------------------------

// For each circle, a pass over the block's references, which GCC vectorises. Circular L1
// accumulates in int16 when K * 128 fits (twice the lanes of int32: about 1.8x faster); the LUT
// loop is a gather from an int32 copy of the table (no SIMD byte shuffle in portable C++), so it
// is far slower than the AVX-512 kernel.
struct PortableByteScorer {
  const std::uint8_t* queries;  // (N_q, K) row-major, contiguous
  const std::uint8_t* refs;     // (K, N) column-major
  Eigen::Index K, Nr;
  const std::int32_t* lut;      // 256 entries, or nullptr for circular L1
  const std::uint8_t* q = nullptr;

  void start(Eigen::Index i) { q = queries + i * K; }
  void score(Eigen::Index n0, Eigen::Index n1, std::int32_t* __restrict out) const {
    const Eigen::Index n = n1 - n0;
    if (!lut && K * 128 <= std::numeric_limits<std::int16_t>::max()) {
      std::int16_t acc[kRefBlock] = {};
      for (Eigen::Index k = 0; k < K; ++k) {
        const std::uint8_t qk = q[k];
        const std::uint8_t* __restrict r = refs + k * Nr + n0;
        for (Eigen::Index j = 0; j < n; ++j)
          acc[j] = static_cast<std::int16_t>(acc[j] + std::abs(static_cast<int>(static_cast<std::int8_t>(qk - r[j]))));
      }
      for (Eigen::Index j = 0; j < n; ++j) out[j] = acc[j];
      return;
    }
    std::fill(out, out + n, 0);
    for (Eigen::Index k = 0; k < K; ++k) {
      const std::uint8_t qk = q[k];
      const std::uint8_t* __restrict r = refs + k * Nr + n0;
      if (lut) {
        for (Eigen::Index j = 0; j < n; ++j) out[j] += lut[static_cast<std::uint8_t>(qk - r[j])];
      } else {
        for (Eigen::Index j = 0; j < n; ++j) out[j] += std::abs(static_cast<int>(static_cast<std::int8_t>(qk - r[j])));
      }
    }
  }
};

// The cosine dot product: a pass over the block's references per cos or sin column, int8
// products summed in int32, which GCC vectorises.
struct PortableDotScorer {
  const std::uint8_t* queries;  // (N_q, 2K) cos/sin bytes (int8 values), row-major
  const std::uint8_t* refs;     // (2K, N) column-major
  Eigen::Index K2, Nr;
  const std::uint8_t* q = nullptr;

  void start(Eigen::Index i) { q = queries + i * K2; }
  void score(Eigen::Index n0, Eigen::Index n1, std::int32_t* __restrict out) const {
    const Eigen::Index n = n1 - n0;
    std::fill(out, out + n, 0);
    for (Eigen::Index c = 0; c < K2; ++c) {
      const std::int32_t qc = static_cast<std::int8_t>(q[c]);
      const std::uint8_t* __restrict r = refs + c * Nr + n0;
      for (Eigen::Index j = 0; j < n; ++j) out[j] += qc * static_cast<std::int8_t>(r[j]);
    }
  }
};

#if TORUS_AVX512_CODES
// ---- uint8 torus codes: AVX-512 ----------------------------------------------------------------
//
// Every uint8 kernel sums bytes with vpdpbusd (VNNI: four uint8 x int8 products added to each
// int32 lane) on a layout where one int32 lane holds four bytes of one reference, so 16
// consecutive references fill a zmm and their sums land in its 16 lanes directly (no vpsadbw
// into 64-bit lanes, no repacking):
//   cosine LUT: d = q - r bytewise (the uint8 wrap for free), then the key min(|int8 d|, 127)
//     (vpabsb leaves -128 as 128 unsigned, vpminub caps it) looked up by vpermi2b in the
//     128-entry int8 table LUT[0..127], then vpdpbusd(ones, t). Exact because the table is even,
//     LUT[256 - j] = LUT[j] (by CosineLut's construction), and flat at the half turn, LUT[127] =
//     LUT[128] (A (1 - cos(pi / 128)) < 1/2 for A <= 127); the search checks both. Padding bytes:
//     64 in the query, 0 in the reference, LUT[64] = 0.
//   circular L1: vpdpbusd(|q - r|, ones); vpabsb leaves 0x80 as 0x80, 128 unsigned: exactly the
//     "-128 counts as 128" rule. Padding bytes: 0 on both sides.
//   cosine dot: vpdpbusd(r, q), the reference's cos/sin bytes biased by +128 to uint8 and the
//     query's as int8 (padding 0); the lanes hold the score plus the query's bias 128 sum(q).
// Scores stay in registers: each query keeps its top-k threshold (plus its bias) in a zmm, and
// only a group of 16 in which some lane beats it is written out and offered to the top-k (after
// the first few hundred references, rarely); the test runs on the lane-wise best of two groups.
// Four queries are scored against each loaded group of references, which shares the loads and
// keeps independent chains of vpdpbusd in flight (2 or 8 measured no faster).

enum class ByteKernel { lut, l1, dot };

constexpr Nearer nearer_for(ByteKernel kind) { return kind == ByteKernel::l1 ? Nearer::smaller : Nearer::larger; }

// Queries scored together against each group of 16 references.
constexpr int kQueryGroup = 4;

// Byte rows stored dword-major: dword w of row n at [w stride + n], stride = N rounded up to 16,
// from a 64-byte aligned start, so one aligned load (one cache line) holds dword w of 16
// consecutive rows. Built in place from row_bytes(n, out), which writes row n's 4 W bytes: a fresh
// page costs a fault (about 10 us per 4 KB on the VMs this was measured on, 3 ms for the 960 KB
// of a K = 8 dot index), more than filling it, so the index is the only large buffer. The rows
// past N hold zeros (the kernels mask them out).
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

// One uint8 search ready for the AVX-512 kernel: the references' bytes, the queries' bytes
// row-major (W dwords a row, whole groups of kQueryGroup, the rows added zero), each query's bias
// (what its lanes hold beyond the score), all from row_bytes(which, n, out), which writes row n
// of the queries (which = 0) or references (1) as 4 W bytes.
struct Avx512ByteSearch {
  template <typename RowBytes>
  Avx512ByteSearch(Eigen::Index Nq, Eigen::Index Nr, Eigen::Index W, const RowBytes& row_bytes)
      : refs(Nr, W, [&](Eigen::Index n, std::uint8_t* out) { row_bytes(1, n, out); }),
        queries(static_cast<std::size_t>(whole_groups(Nq) * W)),
        bias(static_cast<std::size_t>(whole_groups(Nq))) {
    for (Eigen::Index i = 0; i < Nq; ++i) row_bytes(0, i, reinterpret_cast<std::uint8_t*>(queries.data() + i * W));
  }

  static Eigen::Index whole_groups(Eigen::Index rows) { return (rows + kQueryGroup - 1) / kQueryGroup * kQueryGroup; }

  DwordMajorRows refs;
  std::vector<std::uint32_t> queries;  // (whole groups, W)
  std::vector<std::int32_t> bias;      // one per query row
  alignas(64) std::int8_t table[128] = {};  // the LUT kernel's LUT[0..127]
};

// The threshold a query's biased lanes must beat: its top-k threshold plus its bias, held to the
// int32 range (a list not yet full has the least or greatest int32, which no lane can reach, as
// every lane lies strictly inside the int32 range: check_byte_sum).
template <Nearer nearer>
std::int32_t biased_threshold(const TopK<std::int32_t, nearer>& top, std::int32_t bias) {
  const std::int64_t t = std::int64_t{top.threshold()} + bias;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(t, std::numeric_limits<std::int32_t>::min(),
                                                            std::numeric_limits<std::int32_t>::max()));
}

// Offers the lanes of one group of 16 references (biased scores, first index `first`) set in
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

#if TORUS_AVX512_DISPATCH
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vbmi,avx512vnni,avx512vpopcntdq")
// GCC 12 flags its own _mm512_undefined_* inside these intrinsics as maybe-uninitialized (the
// false positive the top-level meson.build silences for native builds); silence it here too.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// One dword of 16 references (r) against the query's dword broadcast (q), added to acc.
template <ByteKernel kind>
inline __m512i byte_step(__m512i acc, __m512i q, __m512i r, __m512i tlo, __m512i thi, __m512i ones) {
  if constexpr (kind == ByteKernel::dot) {
    return _mm512_dpbusd_epi32(acc, r, q);
  } else if constexpr (kind == ByteKernel::l1) {
    return _mm512_dpbusd_epi32(acc, _mm512_abs_epi8(_mm512_sub_epi8(q, r)), ones);
  } else {
    const __m512i key = _mm512_min_epu8(_mm512_abs_epi8(_mm512_sub_epi8(q, r)), _mm512_set1_epi8(127));
    return _mm512_dpbusd_epi32(acc, ones, _mm512_permutex2var_epi8(tlo, key, thi));  // LUT[key]
  }
}

// The lanes of a that are nearer than b (of `valid`), and the lane-wise nearer of a and b.
template <ByteKernel kind>
inline __mmask16 nearer_lanes(__mmask16 valid, __m512i a, __m512i b) {
  return kind == ByteKernel::l1 ? _mm512_mask_cmplt_epi32_mask(valid, a, b) : _mm512_mask_cmpgt_epi32_mask(valid, a, b);
}
template <ByteKernel kind>
inline __m512i nearer_of(__m512i a, __m512i b) {
  return kind == ByteKernel::l1 ? _mm512_min_epi32(a, b) : _mm512_max_epi32(a, b);
}

// Scores query group `group` against every reference and offers them to its kQueryGroup top-k
// lists; kW dwords per row known at compile time (kW = 0: at run time).
template <ByteKernel kind, int kW>
void avx512_scan(const Avx512ByteSearch& s, Eigen::Index group, TopK<std::int32_t, nearer_for(kind)>* tops) {
  constexpr int G = kQueryGroup;
  const Eigen::Index W = kW > 0 ? kW : s.refs.dwords(), N = s.refs.rows(), stride = s.refs.stride();
  const std::uint32_t* q = s.queries.data() + group * G * W;
  const std::int32_t* bias = s.bias.data() + group * G;
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i tlo = _mm512_setzero_si512(), thi = tlo;
  if constexpr (kind == ByteKernel::lut) {
    tlo = _mm512_load_si512(s.table);
    thi = _mm512_load_si512(s.table + 64);
  }
  // The query dwords broadcast once, into registers, when their number is known at compile time
  // (otherwise re-read in the loop: the top-k calls could, for all GCC knows, change them).
  __m512i query[kW > 0 ? G * kW : 1];
  if constexpr (kW > 0)
    for (int j = 0; j < G * kW; ++j) query[j] = _mm512_set1_epi32(static_cast<int>(q[j]));
  __m512i threshold[G];
  for (int g = 0; g < G; ++g) threshold[g] = _mm512_set1_epi32(biased_threshold(tops[g], bias[g]));

  // The biased scores of the 16 references from n, one zmm per query.
  auto score_16 = [&](Eigen::Index n, __m512i* acc) __attribute__((always_inline)) {
    for (int g = 0; g < G; ++g) acc[g] = _mm512_setzero_si512();
    for (Eigen::Index w = 0; w < W; ++w) {
      const __m512i r = _mm512_load_si512(s.refs.data() + w * stride + n);
      for (int g = 0; g < G; ++g) {
        const __m512i qw = kW > 0 ? query[g * kW + w] : _mm512_set1_epi32(static_cast<int>(q[g * W + w]));
        acc[g] = byte_step<kind>(acc[g], qw, r, tlo, thi, ones);
      }
    }
  };
  // Offers the `valid` lanes of acc (references from n) that beat their query's threshold.
  auto offer_16 = [&](Eigen::Index n, const __m512i* acc, __mmask16 valid) {
    for (int g = 0; g < G; ++g) {
      const __mmask16 lanes = nearer_lanes<kind>(valid, acc[g], threshold[g]);
      if (lanes == 0) continue;
      alignas(64) std::int32_t biased[16];
      _mm512_store_si512(biased, acc[g]);
      threshold[g] = _mm512_set1_epi32(offer_lanes(tops[g], bias[g], biased, lanes, n));
    }
  };

  Eigen::Index n = 0;
  for (; n + 32 <= N; n += 32) {
    __m512i a[G], b[G];
    score_16(n, a);
    score_16(n + 16, b);
    __mmask16 any = 0;
    for (int g = 0; g < G; ++g) any |= nearer_lanes<kind>(0xFFFF, nearer_of<kind>(a[g], b[g]), threshold[g]);
    if (any != 0) [[unlikely]] {
      offer_16(n, a, 0xFFFF);
      offer_16(n + 16, b, 0xFFFF);
    }
  }
  for (; n < N; n += 16) {
    __m512i a[G];
    score_16(n, a);
    offer_16(n, a, N - n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (N - n)) - 1));
  }
}

// Hamming distances of references n0..n1-1 (n1 - n0 a multiple of 16, > 0) into out, on the
// word-major layout (8 references per zmm): kW words per row known at compile time (kW = 0: W at
// run time), 16 references per iteration (two zmm of 8 uint64 popcounts, packed to 16 int32 by
// one vpermt2d and stored with one 64-byte store). Also returns the block's least distance, kept
// in a register on the way, so the top-k filter needs no second pass over the block.
template <int kW>
std::int32_t avx512_hamming(const std::uint64_t* q, const std::uint64_t* refs, Eigen::Index Nr, Eigen::Index W_runtime,
                            Eigen::Index n0, Eigen::Index n1, std::int32_t* out) {
  const Eigen::Index W = kW > 0 ? kW : W_runtime;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  __m512i best = _mm512_set1_epi32(std::numeric_limits<std::int32_t>::max());
  for (Eigen::Index n = n0; n < n1; n += 16) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0;
    for (Eigen::Index w = 0; w < W; ++w) {
      const __m512i qw = _mm512_set1_epi64(static_cast<long long>(q[w]));
      const std::uint64_t* r = refs + w * Nr + n;
      a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_xor_si512(qw, _mm512_loadu_si512(r))));
      a1 = _mm512_add_epi64(a1, _mm512_popcnt_epi64(_mm512_xor_si512(qw, _mm512_loadu_si512(r + 8))));
    }
    // The low dword of each lane: a distance of at most 64 W bits fits it.
    const __m512i v = _mm512_permutex2var_epi32(a0, even, a1);
    best = _mm512_min_epi32(best, v);
    _mm512_storeu_si512(out + (n - n0), v);
  }
  return _mm512_reduce_min_epi32(best);
}

#if TORUS_AVX512_DISPATCH
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

template <ByteKernel kind>
using Avx512ScanFn = void (*)(const Avx512ByteSearch&, Eigen::Index, TopK<std::int32_t, nearer_for(kind)>*);

template <ByteKernel kind>
Avx512ScanFn<kind> pick_avx512_scan(Eigen::Index W) {
  switch (W) {
    case 1: return &avx512_scan<kind, 1>;
    case 2: return &avx512_scan<kind, 2>;
    case 4: return &avx512_scan<kind, 4>;
    case 8: return &avx512_scan<kind, 8>;
    default: return &avx512_scan<kind, 0>;
  }
}

using Avx512HammingFn = std::int32_t (*)(const std::uint64_t*, const std::uint64_t*, Eigen::Index, Eigen::Index,
                                         Eigen::Index, Eigen::Index, std::int32_t*);

Avx512HammingFn pick_avx512_hamming(Eigen::Index W) {
  switch (W) {
    case 1: return &avx512_hamming<1>;
    case 2: return &avx512_hamming<2>;
    case 4: return &avx512_hamming<4>;
    default: return &avx512_hamming<0>;
  }
}

// The AVX-512 driver: OpenMP threads split the query groups; each group scans every reference
// alone, and a query's result does not depend on the others of its group, so results are
// identical at any thread count. (Tiling the references so that a tile is read from L1 by many
// groups measured no faster: the whole index, 16 bytes a reference at most for K = 8, streams
// from L2.)
template <ByteKernel kind>
KnnResult<std::int32_t> avx512_byte_search(const Avx512ByteSearch& s, Eigen::Index Nq, int k, int threads) {
  constexpr Nearer nearer = nearer_for(kind);
  const Avx512ScanFn<kind> scan = pick_avx512_scan<kind>(s.refs.dwords());
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
      scan(s, g, tops.data());
      for (Eigen::Index j = 0; j < kQueryGroup && g * kQueryGroup + j < Nq; ++j)
        tops[static_cast<std::size_t>(j)].write(result, g * kQueryGroup + j);
    }
  }
  return result;
}

// Whether the AVX-512 LUT kernel is exact for this table: int8 entries, even, flat at the half
// turn, and LUT[64] = 0 for the padding (see the kernels' notes).
bool lut_fits_avx512(const CosineLut& lut) {
  bool fits = lut.amplitude() <= 127 && lut[127] == lut[128] && lut[64] == 0;
  for (int j = 1; j < 128 && fits; ++j) fits = lut[static_cast<std::uint8_t>(256 - j)] == lut[static_cast<std::uint8_t>(j)];
  return fits;
}

// LUT and circular L1 on the codes themselves. Padding bytes add nothing: for L1 the difference
// of two zeros, for the LUT LUT[64 - 0] = round(A cos(pi / 2)) = 0.
Avx512ByteSearch avx512_code_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                    const CosineLut* lut) {
  const Eigen::Index K = queries.cols(), W = (K + 3) / 4;
  const std::uint8_t query_pad = lut ? 64 : 0;
  Avx512ByteSearch s(queries.rows(), refs.rows(), W, [&](int which, Eigen::Index n, std::uint8_t* out) {
    std::fill(out + K, out + 4 * W, which == 0 ? query_pad : std::uint8_t{0});
    for (Eigen::Index c = 0; c < K; ++c) out[c] = which == 0 ? queries(n, c) : refs(n, c);
  });
  if (lut)
    for (int j = 0; j < 128; ++j) s.table[j] = static_cast<std::int8_t>((*lut)[static_cast<std::uint8_t>(j)]);
  return s;
}

// The cosine dot product on the cos/sin bytes: the references' biased by +128 to uint8 (any
// padding byte: the query's padding is 0), the queries' as int8; each query's bias is 128 sum(q).
Avx512ByteSearch avx512_dot_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                   const CosineLut& lut) {
  const Eigen::Index K = queries.cols(), W = (2 * K + 3) / 4;
  const CosSinBytes query_bytes(lut, 0), ref_bytes(lut, 128);
  Avx512ByteSearch s(queries.rows(), refs.rows(), W, [&](int which, Eigen::Index n, std::uint8_t* out) {
    std::fill(out + 2 * K, out + 4 * W, std::uint8_t{0});
    if (which == 0) query_bytes.row(queries, n, out);
    else ref_bytes.row(refs, n, out);
  });
  for (Eigen::Index i = 0; i < queries.rows(); ++i) {
    const auto* q = reinterpret_cast<const std::uint8_t*>(s.queries.data() + i * W);
    std::int32_t sum = 0;
    for (Eigen::Index j = 0; j < 2 * K; ++j) sum += static_cast<std::int8_t>(q[j]);
    s.bias[static_cast<std::size_t>(i)] = 128 * sum;
  }
  return s;
}
#endif

KnnResult<std::int32_t> byte_code_search(const char* what, const Eigen::Ref<const CodeMatrix>& queries,
                                         const Eigen::Ref<const CodeMatrix>& refs, const CosineLut* lut, int k,
                                         int threads, SearchKernel kernel) {
  check_knn_arguments(what, queries.cols(), refs.rows(), refs.cols(), k, threads);
  const Eigen::Index K = queries.cols(), Nr = refs.rows(), Nq = queries.rows();
  check_byte_sum(what, K, lut ? lut->amplitude() : 128);
  constexpr Nearer order_lut = Nearer::larger, order_l1 = Nearer::smaller;

#if TORUS_AVX512_CODES
  const bool fast = kernel == SearchKernel::fastest && avx512_search_kernels() && (!lut || lut_fits_avx512(*lut));
  if (fast) {
    const Avx512ByteSearch s = avx512_code_search(queries, refs, lut);
    return lut ? avx512_byte_search<ByteKernel::lut>(s, Nq, k, threads)
               : avx512_byte_search<ByteKernel::l1>(s, Nq, k, threads);
  }
#else
  (void)kernel;
#endif
  const CodeMatrix qcopy = queries;  // contiguous rows
  const std::vector<std::uint8_t> r = column_major<std::uint8_t>(refs);
  std::array<std::int32_t, 256> table{};
  if (lut)
    for (int j = 0; j < 256; ++j) table[static_cast<std::size_t>(j)] = (*lut)[static_cast<std::uint8_t>(j)];
  const PortableByteScorer proto{qcopy.data(), r.data(), K, Nr, lut ? table.data() : nullptr};
  auto make = [&] { return proto; };
  return lut ? search_each_query<std::int32_t, order_lut>(Nq, Nr, k, threads, make)
             : search_each_query<std::int32_t, order_l1>(Nq, Nr, k, threads, make);
}

// ---- 1-bit codes ------------------------------------------------------------------------------

// Word-major (W, N): word w of 8 consecutive references is one zmm. The portable loop is plain
// std::popcount, which GCC turns into vpopcntq where the target has it.
struct HammingScorer {
  const std::uint64_t* queries;  // (N_q, W) row-major
  const std::uint64_t* refs;     // (W, N)
  Eigen::Index W, Nr;
  bool simd;
  const std::uint64_t* q = nullptr;
#if TORUS_AVX512_CODES
  Avx512HammingFn distances = pick_avx512_hamming(W);
#endif

  void start(Eigen::Index i) { q = queries + i * W; }
  // Returns the block's least distance.
  std::int32_t score(Eigen::Index n0, Eigen::Index n1, std::int32_t* __restrict out) const {
    Eigen::Index n = n0;
    std::int32_t best = std::numeric_limits<std::int32_t>::max();
#if TORUS_AVX512_CODES
    if (simd && n1 - n0 >= 16) {
      n = n0 + (n1 - n0) / 16 * 16;
      best = distances(q, refs, Nr, W, n0, n, out);
    }
#endif
    const Eigen::Index m = n1 - n;
    std::int32_t* __restrict o = out + (n - n0);
    std::fill(o, o + m, 0);
    for (Eigen::Index w = 0; w < W; ++w) {
      const std::uint64_t qw = q[w];
      const std::uint64_t* __restrict r = refs + w * Nr + n;
      for (Eigen::Index j = 0; j < m; ++j) o[j] += static_cast<std::int32_t>(std::popcount(qw ^ r[j]));
    }
    for (Eigen::Index j = 0; j < m; ++j) best = std::min(best, o[j]);
    return best;
  }
};

// ---- product quantisers -----------------------------------------------------------------------

// Asymmetric distance: the query's (M, C) table is built once, then each reference's score is
// the sum of M table entries, in sub-quantiser order. Codes column-major (M, N), so each pass is a
// gather over consecutive references.
template <typename Quantizer>
struct AdcScorer {
  const Quantizer* pq;
  const float* queries;       // (N_q, d) row-major
  const std::uint8_t* codes;  // (M, N)
  Eigen::Index Nr;
  std::vector<float> table;

  void start(Eigen::Index i) { pq->distance_table(queries + i * pq->dim(), table.data()); }
  void score(Eigen::Index n0, Eigen::Index n1, float* __restrict out) const {
    const Eigen::Index n = n1 - n0;
    const int M = pq->subquantizers(), C = pq->centroids();
    const float* __restrict t = table.data();
    const std::uint8_t* __restrict c = codes + n0;
    for (Eigen::Index j = 0; j < n; ++j) out[j] = t[c[j]];
    for (int m = 1; m < M; ++m) {
      const float* __restrict tm = t + m * C;
      const std::uint8_t* __restrict cm = codes + m * Nr + n0;
      for (Eigen::Index j = 0; j < n; ++j) out[j] += tm[cm[j]];
    }
  }
};

template <typename Quantizer>
KnnResult<float> adc_search(const char* what, const Quantizer& pq, const Eigen::Ref<const RowMatrix<float>>& queries,
                            const Eigen::Ref<const CodeMatrix>& codes, int k, int threads) {
  if (queries.cols() != pq.dim()) {
    throw std::invalid_argument(std::string(what) + ": queries have " + std::to_string(queries.cols()) +
                                " columns, the quantiser " + std::to_string(pq.dim()));
  }
  if (codes.cols() != pq.subquantizers()) {
    throw std::invalid_argument(std::string(what) + ": codes have " + std::to_string(codes.cols()) +
                                " columns, the quantiser has " + std::to_string(pq.subquantizers()) + " sub-quantisers");
  }
  check_knn_arguments(what, pq.subquantizers(), codes.rows(), codes.cols(), k, threads);
  // A NaN score would never leave the list (no comparison with it is true): refuse NaN up front.
  if (!queries.allFinite()) throw std::invalid_argument(std::string(what) + ": non-finite query value");
  for (Eigen::Index i = 0; i < codes.size(); ++i) {
    if (codes(i / codes.cols(), i % codes.cols()) >= pq.centroids()) {
      throw std::invalid_argument(std::string(what) + ": code out of range for " + std::to_string(pq.bits()) + " bits");
    }
  }
  const RowMatrix<float> q = queries;
  const std::vector<std::uint8_t> c = column_major<std::uint8_t>(codes);
  auto make = [&] {
    return AdcScorer<Quantizer>{&pq, q.data(), c.data(), codes.rows(),
                                std::vector<float>(static_cast<std::size_t>(pq.subquantizers() * pq.centroids()))};
  };
  return search_each_query<float, Nearer::smaller>(queries.rows(), codes.rows(), k, threads, make);
}

}  // namespace

KnnResult<std::int32_t> knn_cosine_lut(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                       const CosineLut& lut, int k, int threads, SearchKernel kernel) {
  return byte_code_search("knn_cosine_lut", queries, refs, &lut, k, threads, kernel);
}

KnnResult<std::int32_t> knn_circular_l1(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                        int k, int threads, SearchKernel kernel) {
  return byte_code_search("knn_circular_l1", queries, refs, nullptr, k, threads, kernel);
}

KnnResult<std::int32_t> knn_cosine_dot(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                       const CosineLut& lut, int k, int threads, SearchKernel kernel) {
  check_knn_arguments("knn_cosine_dot", queries.cols(), refs.rows(), refs.cols(), k, threads);
  if (lut.amplitude() > 127) {
    throw std::invalid_argument("knn_cosine_dot: the int8 tables need amplitude <= 127, got " + std::to_string(lut.amplitude()));
  }
  const std::int64_t A = lut.amplitude();
  // Per circle |cos cos + sin sin| <= 2 A^2, and the AVX-512 kernel's biased lanes |(c + 128) c'
  // + (s + 128) s'| <= 2 255 A.
  check_byte_sum("knn_cosine_dot", queries.cols(), 2 * 255 * A);
#if TORUS_AVX512_CODES
  if (kernel == SearchKernel::fastest && avx512_search_kernels())
    return avx512_byte_search<ByteKernel::dot>(avx512_dot_search(queries, refs, lut), queries.rows(), k, threads);
#else
  (void)kernel;
#endif
  const CosSinBytes bytes(lut, 0);
  const CodeMatrix q = bytes.rows(queries);
  const std::vector<std::uint8_t> r = column_major<std::uint8_t>(bytes.rows(refs));
  const PortableDotScorer proto{q.data(), r.data(), q.cols(), refs.rows()};
  return search_each_query<std::int32_t, Nearer::larger>(queries.rows(), refs.rows(), k, threads, [&] { return proto; });
}

KnnResult<std::int32_t> knn_hamming(const Eigen::Ref<const BitCodeMatrix>& queries,
                                    const Eigen::Ref<const BitCodeMatrix>& refs, int k, int threads,
                                    SearchKernel kernel) {
  check_knn_arguments("knn_hamming", queries.cols(), refs.rows(), refs.cols(), k, threads);
  const BitCodeMatrix q = queries;
  const std::vector<std::uint64_t> r = column_major<std::uint64_t>(refs);
  const HammingScorer proto{q.data(), r.data(), queries.cols(), refs.rows(),
                            kernel == SearchKernel::fastest && avx512_search_kernels()};
  auto make = [&] { return proto; };
  return search_each_query<std::int32_t, Nearer::smaller>(queries.rows(), refs.rows(), k, threads, make);
}

KnnResult<float> knn_pq(const ProductQuantizer& pq, const Eigen::Ref<const RowMatrix<float>>& queries,
                        const Eigen::Ref<const CodeMatrix>& codes, int k, int threads) {
  return adc_search("knn_pq", pq, queries, codes, k, threads);
}

KnnResult<float> knn_circular_pq(const CircularProductQuantizer& pq, const Eigen::Ref<const RowMatrix<float>>& query_angles,
                                 const Eigen::Ref<const CodeMatrix>& codes, int k, int threads) {
  return adc_search("knn_circular_pq", pq, query_angles, codes, k, threads);
}

// ---- float inner product ----------------------------------------------------------------------

KnnResult<float> knn_inner_product(const Eigen::Ref<const RowMatrix<float>>& queries,
                                   const Eigen::Ref<const RowMatrix<float>>& refs, int k, int threads) {
  check_knn_arguments("knn_inner_product", queries.cols(), refs.rows(), refs.cols(), k, threads);
  // A NaN score would never leave the list (no comparison with it is true): refuse NaN and inf.
  if (!queries.allFinite() || !refs.allFinite()) throw std::invalid_argument("knn_inner_product: non-finite value");
  const Eigen::Index Nq = queries.rows(), Nr = refs.rows();
  constexpr Eigen::Index kQ = 32, kR = 1024;
  // At most 32 rows at compile time: Eigen then never parallelises this GEMM itself
  // (Parallelizer.h runs it serially unless Dest::MaxRowsAtCompileTime > 32), so `threads` is the
  // only parallelism, whatever Eigen::setNbThreads says. Queries are blocked on fixed 32-row
  // boundaries, so each score is computed by the same kernel call at any thread count.
  using ScoreBlock = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor, kQ, Eigen::Dynamic>;
  KnnResult<float> result;
  result.indices.resize(Nq, k);
  result.scores.resize(Nq, k);
  const Eigen::Index blocks = (Nq + kQ - 1) / kQ;
TORUS_GEOMETRY_OMP(parallel num_threads(threads))
  {
    std::vector<TopK<float, Nearer::larger>> tops(static_cast<std::size_t>(kQ), TopK<float, Nearer::larger>(k));
    ScoreBlock S;
TORUS_GEOMETRY_OMP(for schedule(dynamic, 1))
    for (Eigen::Index b = 0; b < blocks; ++b) {
      const Eigen::Index q0 = b * kQ, bq = std::min(kQ, Nq - q0);
      for (auto& t : tops) t.clear();
      for (Eigen::Index r0 = 0; r0 < Nr; r0 += kR) {
        const Eigen::Index br = std::min(kR, Nr - r0);
        S.resize(bq, br);
        S.noalias() = queries.middleRows(q0, bq) * refs.middleRows(r0, br).transpose();
        for (Eigen::Index i = 0; i < bq; ++i) tops[static_cast<std::size_t>(i)].push_block(S.row(i).data(), br, r0);
      }
      for (Eigen::Index i = 0; i < bq; ++i) tops[static_cast<std::size_t>(i)].write(result, q0 + i);
    }
  }
  return result;
}

}  // namespace torus::geometry
