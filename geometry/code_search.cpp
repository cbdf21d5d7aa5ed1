#include "geometry/code_search.hpp"

#include "geometry/omp_pragma.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

// The AVX-512 kernels (F, BW, VBMI for the byte permute, VPOPCNTDQ) are compiled in when the
// target has them (-march=native here), and with GCC on x86-64 also in portable builds, under a
// target pragma, then chosen at run time by a CPU check: the default build (native off) still gets
// them on a machine that has them.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VBMI__) && defined(__AVX512VPOPCNTDQ__)
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
                                __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vpopcntdq");
  return available;
#else
  return TORUS_AVX512_CODES != 0;
#endif
}

namespace {

// References scored per block: the int32 score buffer (4 KB) stays in L1 while the top-k filter
// reads it back.
constexpr Eigen::Index kRefBlock = 1024;

// The driver every code search shares. make() is called once per thread and returns a scorer
// with start(query) and score(n0, n1, out), which writes the scores of references n0..n1-1 to
// out[0..n1-n0) and either returns nothing or the best of them. Each query runs start once,
// then the blocks in reference order.
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

// ---- uint8 torus codes ------------------------------------------------------------------------

// Portable: for each circle, a pass over the block's references, which GCC vectorises. Circular
// L1 accumulates in int16 when K * 128 fits (twice the lanes of int32: about 1.8x faster); the
// LUT loop is a gather from an int32 copy of the table (no SIMD byte shuffle in portable C++), so
// it is far slower than the AVX-512 kernel.
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

#if TORUS_AVX512_CODES
// Chunk p (bytes 8p..8p+7, zero-padded past K) of row n of byte codes, as one little-endian word:
// byte j of the chunk is bits 8j..8j+7.
std::uint64_t byte_chunk(const Eigen::Ref<const CodeMatrix>& x, Eigen::Index n, Eigen::Index p) {
  std::uint8_t bytes[8] = {};
  for (Eigen::Index j = 0; j < 8 && 8 * p + j < x.cols(); ++j) bytes[j] = x(n, 8 * p + j);
  std::uint64_t w;
  std::memcpy(&w, bytes, 8);
  return w;
}

// Byte codes (N, K) as P = ceil(K / 8) chunks per row, either row-major (N, P) or chunk-major
// (P, N): chunk p of row n at [p N + n], so one zmm load holds chunk p of 8 consecutive rows.
std::vector<std::uint64_t> byte_chunks(const Eigen::Ref<const CodeMatrix>& x, Eigen::Index P, bool chunk_major) {
  const Eigen::Index N = x.rows();
  std::vector<std::uint64_t> out(static_cast<std::size_t>(P * N));
  for (Eigen::Index n = 0; n < N; ++n)
    for (Eigen::Index p = 0; p < P; ++p) out[static_cast<std::size_t>(chunk_major ? p * N + n : n * P + p)] = byte_chunk(x, n, p);
  return out;
}

#if TORUS_AVX512_DISPATCH
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vbmi,avx512vpopcntdq")
// GCC 12 flags its own _mm512_undefined_* inside these intrinsics as maybe-uninitialized (the
// false positive the top-level meson.build silences for native builds); silence it here too.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// The per-8-reference steps, on chunk p of 8 consecutive references (r) against the query's
// chunk p broadcast (q): each returns 8 uint64 lanes, one partial sum per reference.
inline __m512i lut_step(__m512i q, __m512i r, __m512i tlo, __m512i thi) {
  const __m512i d = _mm512_sub_epi8(q, r);
  const __m512i t = _mm512_permutex2var_epi8(tlo, d, thi);  // LUT[d & 127] + 128
  const __m512i u = _mm512_mask_sub_epi8(t, _mm512_movepi8_mask(d), _mm512_setzero_si512(), t);
  return _mm512_sad_epu8(u, _mm512_setzero_si512());
}
inline __m512i l1_step(__m512i q, __m512i r) {
  return _mm512_sad_epu8(_mm512_abs_epi8(_mm512_sub_epi8(q, r)), _mm512_setzero_si512());
}
inline __m512i hamming_step(__m512i q, __m512i r) { return _mm512_popcnt_epi64(_mm512_xor_si512(q, r)); }

enum class ByteKernel { lut, l1, hamming };

// Scores of references n0..n1-1 (n1 - n0 a multiple of 16, > 0) into out: kP chunks per row known
// at compile time (kP = 0: P at run time), 16 references per iteration (two zmm of 8 uint64
// sums, packed to 16 int32 by one vpermt2d and stored with one 64-byte store). Also returns the
// block's best score (max for the LUT, min for distances), kept in a register on the way, so the
// top-k filter needs no second pass over the block.
template <ByteKernel kind, int kP>
std::int32_t avx512_scores(const std::uint64_t* q, const std::uint64_t* refs, Eigen::Index Nr, Eigen::Index P_runtime,
                           const std::uint8_t* table, std::int32_t bias, Eigen::Index n0, Eigen::Index n1,
                           std::int32_t* out) {
  const Eigen::Index P = kP > 0 ? kP : P_runtime;
  __m512i tlo = _mm512_setzero_si512(), thi = tlo;
  if constexpr (kind == ByteKernel::lut) {
    tlo = _mm512_load_si512(table);
    thi = _mm512_load_si512(table + 64);
  }
  const __m512i vbias = _mm512_set1_epi32(bias);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  __m512i best = _mm512_set1_epi32(kind == ByteKernel::lut ? std::numeric_limits<std::int32_t>::min()
                                                           : std::numeric_limits<std::int32_t>::max());
  for (Eigen::Index n = n0; n < n1; n += 16) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0;
    for (Eigen::Index p = 0; p < P; ++p) {
      const __m512i qb = _mm512_set1_epi64(static_cast<long long>(q[p]));
      const std::uint64_t* r = refs + p * Nr + n;
      const __m512i r0 = _mm512_loadu_si512(r), r1 = _mm512_loadu_si512(r + 8);
      if constexpr (kind == ByteKernel::lut) {
        a0 = _mm512_add_epi64(a0, lut_step(qb, r0, tlo, thi));
        a1 = _mm512_add_epi64(a1, lut_step(qb, r1, tlo, thi));
      } else if constexpr (kind == ByteKernel::l1) {
        a0 = _mm512_add_epi64(a0, l1_step(qb, r0));
        a1 = _mm512_add_epi64(a1, l1_step(qb, r1));
      } else {
        a0 = _mm512_add_epi64(a0, hamming_step(qb, r0));
        a1 = _mm512_add_epi64(a1, hamming_step(qb, r1));
      }
    }
    // The low dword of each lane: the int32 subtraction of the (truncated) bias then wraps to the
    // exact score, which fits int32 (checked by the caller) even where the biased sum would not.
    __m512i v = _mm512_permutex2var_epi32(a0, even, a1);
    if constexpr (kind == ByteKernel::lut) {
      v = _mm512_sub_epi32(v, vbias);
      best = _mm512_max_epi32(best, v);
    } else {
      best = _mm512_min_epi32(best, v);
    }
    _mm512_storeu_si512(out + (n - n0), v);
  }
  return kind == ByteKernel::lut ? _mm512_reduce_max_epi32(best) : _mm512_reduce_min_epi32(best);
}

#if TORUS_AVX512_DISPATCH
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

template <ByteKernel kind>
using Avx512ScoresFn = std::int32_t (*)(const std::uint64_t*, const std::uint64_t*, Eigen::Index, Eigen::Index,
                                        const std::uint8_t*, std::int32_t, Eigen::Index, Eigen::Index, std::int32_t*);

template <ByteKernel kind>
Avx512ScoresFn<kind> pick_avx512_scores(Eigen::Index P) {
  switch (P) {
    case 1: return &avx512_scores<kind, 1>;
    case 2: return &avx512_scores<kind, 2>;
    case 4: return &avx512_scores<kind, 4>;
    default: return &avx512_scores<kind, 0>;
  }
}

// AVX-512 scorer for LUT and circular L1 on the chunk-major layout (8 references per zmm).
//   LUT: d = q - r bytewise (the uint8 wrap for free); vpermi2b looks d's low 7 bits up in a
//   128-entry table biased by +128 to fit uint8 (LUT[j] + 128 in [1, 255] for |LUT| <= 127); the
//   upper half follows from LUT[j + 128] = -LUT[j] (exact, by CosineLut's construction), i.e. a
//   byte negation where d's top bit is set: 128 - LUT[j] = -(LUT[j] + 128) mod 256. vpsadbw
//   against zero sums each reference's 8 biased bytes into its 64-bit lane, and the bias (128 per
//   byte, plus A per zero padding byte, whose difference is 0) is subtracted at the end.
//   L1: d = q - r, vpabsb (0x80 stays 0x80 = 128 unsigned: exactly the "-128 counts 128" rule),
//   vpsadbw.
template <ByteKernel kind>
struct Avx512ByteScorer {
  const std::uint64_t* queries;  // (N_q, P) chunks
  const std::uint64_t* refs;     // chunk-major (P, N)
  Eigen::Index P, Nr;
  std::int32_t bias;             // LUT: 128 * 8P + A (8P - K), mod 2^32; L1: 0
  const std::int16_t* lut;       // LUT: the table, for the scalar tail
  std::int32_t pad;              // LUT: A (8P - K), the padding bytes' contribution
  Avx512ScoresFn<kind> scores;
  alignas(64) std::uint8_t table[128];
  const std::uint64_t* q = nullptr;

  void start(Eigen::Index i) { q = queries + i * P; }

  std::int32_t scalar(Eigen::Index n) const {  // one reference, for the tail of a block
    std::int32_t s = 0;
    for (Eigen::Index p = 0; p < P; ++p) {
      const std::uint64_t a = q[p], b = refs[p * Nr + n];
      for (int j = 0; j < 8; ++j) {
        const auto d = static_cast<std::uint8_t>((a >> (8 * j)) - (b >> (8 * j)));
        if constexpr (kind == ByteKernel::lut) s += lut[d];
        else s += std::abs(static_cast<int>(static_cast<std::int8_t>(d)));
      }
    }
    return kind == ByteKernel::lut ? s - pad : s;
  }

  // Returns the block's best score.
  std::int32_t score(Eigen::Index n0, Eigen::Index n1, std::int32_t* out) const {
    const Eigen::Index n16 = n0 + (n1 - n0) / 16 * 16;
    std::int32_t best = n16 > n0 ? scores(q, refs, Nr, P, table, bias, n0, n16, out) : scalar(n0);
    for (Eigen::Index n = n16; n < n1; ++n) {
      out[n - n0] = scalar(n);
      best = kind == ByteKernel::lut ? std::max(best, out[n - n0]) : std::min(best, out[n - n0]);
    }
    return best;
  }
};
#endif

// A K-circle int32 sum cannot overflow if K * bound fits.
void check_byte_sum(const char* what, Eigen::Index K, std::int64_t bound) {
  if (K * bound > std::numeric_limits<std::int32_t>::max()) {
    throw std::invalid_argument(std::string(what) + ": K = " + std::to_string(K) + " circles overflow the int32 score");
  }
}

KnnResult<std::int32_t> byte_code_search(const char* what, const Eigen::Ref<const CodeMatrix>& queries,
                                         const Eigen::Ref<const CodeMatrix>& refs, const CosineLut* lut, int k,
                                         int threads, SearchKernel kernel) {
  check_knn_arguments(what, queries.cols(), refs.rows(), refs.cols(), k, threads);
  const Eigen::Index K = queries.cols(), Nr = refs.rows(), Nq = queries.rows();
  check_byte_sum(what, K, lut ? lut->amplitude() : 128);
  constexpr Nearer order_lut = Nearer::larger, order_l1 = Nearer::smaller;

#if TORUS_AVX512_CODES
  bool fast = kernel == SearchKernel::fastest && avx512_search_kernels();
  if (lut) {
    // The int8 table and the negation trick need |LUT| <= 127 and LUT[j + 128] = -LUT[j].
    fast = fast && lut->amplitude() <= 127;
    for (int j = 0; j < 128 && fast; ++j) fast = (*lut)[static_cast<std::uint8_t>(j + 128)] == -(*lut)[static_cast<std::uint8_t>(j)];
  }
  if (fast) {
    const Eigen::Index P = (K + 7) / 8;
    const std::vector<std::uint64_t> qrows = byte_chunks(queries, P, false), r = byte_chunks(refs, P, true);
    const auto A = lut ? static_cast<std::int32_t>(lut->amplitude()) : 0;
    const auto pad = static_cast<std::int32_t>(A * (8 * P - K));
    if (lut) {
      // The bias mod 2^32 (conversion to int32 is modular): see avx512_scores.
      const auto bias = static_cast<std::int32_t>(static_cast<std::int64_t>(128 * 8 * P) + pad);
      Avx512ByteScorer<ByteKernel::lut> proto{qrows.data(), r.data(), P, Nr, bias, lut->table().data(), pad,
                                              pick_avx512_scores<ByteKernel::lut>(P), {}};
      for (int j = 0; j < 128; ++j) proto.table[j] = static_cast<std::uint8_t>((*lut)[static_cast<std::uint8_t>(j)] + 128);
      return search_each_query<std::int32_t, order_lut>(Nq, Nr, k, threads, [&] { return proto; });
    }
    const Avx512ByteScorer<ByteKernel::l1> proto{qrows.data(), r.data(), P, Nr, 0, nullptr, 0,
                                                 pick_avx512_scores<ByteKernel::l1>(P), {}};
    return search_each_query<std::int32_t, order_l1>(Nq, Nr, k, threads, [&] { return proto; });
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
  Avx512ScoresFn<ByteKernel::hamming> scores = pick_avx512_scores<ByteKernel::hamming>(W);
#endif

  void start(Eigen::Index i) { q = queries + i * W; }
  // Returns the block's least distance.
  std::int32_t score(Eigen::Index n0, Eigen::Index n1, std::int32_t* __restrict out) const {
    Eigen::Index n = n0;
    std::int32_t best = std::numeric_limits<std::int32_t>::max();
#if TORUS_AVX512_CODES
    if (simd && n1 - n0 >= 16) {
      n = n0 + (n1 - n0) / 16 * 16;
      best = scores(q, refs, Nr, W, nullptr, 0, n0, n, out);
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
