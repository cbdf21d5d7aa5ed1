// The AVX-512 kernels of the uint8 and 1-bit code searches: see code_search_avx512.hpp.
#include "geometry/code_search_avx512.hpp"

#include "geometry/code_search.hpp"

#if TORUS_AVX512_CODES
#include "geometry/search_common.hpp"

#include <immintrin.h>

#include <bit>

namespace torus::geometry {

bool avx512_search_kernels() {
#if TORUS_AVX512_DISPATCH
  static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vnni") &&
                                __builtin_cpu_supports("avx512vpopcntdq");
  return available;
#else
  return true;  // compiled for a target that has them
#endif
}

namespace detail {

namespace {

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
// Four queries are scored against each loaded group of references.

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
void avx512_scan(const ByteSearch& s, Eigen::Index group, TopK<std::int32_t, nearer_for(kind)>* tops) {
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
ByteScanFn<kind> pick_avx512_scan(Eigen::Index W) {
  switch (W) {
    case 1: return &avx512_scan<kind, 1>;
    case 2: return &avx512_scan<kind, 2>;
    case 4: return &avx512_scan<kind, 4>;
    case 8: return &avx512_scan<kind, 8>;
    default: return &avx512_scan<kind, 0>;
  }
}

}  // namespace

HammingFn pick_avx512_hamming(Eigen::Index W) {
  switch (W) {
    case 1: return &avx512_hamming<1>;
    case 2: return &avx512_hamming<2>;
    case 4: return &avx512_hamming<4>;
    default: return &avx512_hamming<0>;
  }
}

KnnResult<std::int32_t> avx512_code_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                           const CosineLut* lut, int k, int threads) {
  // The LUT's query padding 64 meets the reference's 0: LUT[64] = 0.
  ByteSearch s = code_bytes(queries, refs, lut ? 64 : 0);
  if (!lut) return byte_search<ByteKernel::l1>(s, queries.rows(), k, threads, pick_avx512_scan<ByteKernel::l1>(s.refs.dwords()));
  for (int j = 0; j < 128; ++j) s.table[j] = static_cast<std::int8_t>((*lut)[static_cast<std::uint8_t>(j)]);
  return byte_search<ByteKernel::lut>(s, queries.rows(), k, threads, pick_avx512_scan<ByteKernel::lut>(s.refs.dwords()));
}

KnnResult<std::int32_t> avx512_dot_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                          const CosineLut& lut, int k, int threads) {
  const ByteSearch s = dot_bytes(queries, refs, lut, 128);
  return byte_search<ByteKernel::dot>(s, queries.rows(), k, threads, pick_avx512_scan<ByteKernel::dot>(s.refs.dwords()));
}

}  // namespace detail
}  // namespace torus::geometry

#else

namespace torus::geometry {
bool avx512_search_kernels() { return false; }
}  // namespace torus::geometry

#endif
