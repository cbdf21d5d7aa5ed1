// The AVX2 kernels of the uint8 and 1-bit code searches: see code_search_avx2.hpp.
#include "geometry/code_search_avx2.hpp"

#include "geometry/code_search.hpp"

#if TORUS_AVX2_CODES
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

namespace torus::geometry {

bool avx2_search_kernels() {
#if TORUS_AVX2_DISPATCH
  static const bool available = __builtin_cpu_supports("avx2");
  return available;
#else
  return true;  // compiled for a target that has it
#endif
}

bool avx2_vnni_search_kernels() {
  static const bool available = avx2_search_kernels() && __builtin_cpu_supports("avxvnni");
  return available;
}

namespace detail {

namespace {

// The layout is the AVX-512 kernels' (code_search_bytes.hpp): one int32 lane holds four bytes of
// one reference, so 8 consecutive references fill a ymm and their sums land in its 8 lanes. Per
// dword of 8 references and query:
//   circular L1: x = |r - q| bytewise (vpabsb: 0x80 stays 128 unsigned, the "-128 counts as 128"
//     rule), summed per lane by vpdpbusd(x, ones) with AVX-VNNI, else by vpmaddubsw(x, ones)
//     into int16 pairs (at most 256 each) that add up over up to 64 dwords before one vpmaddwd
//     widens them to int32.
//   cosine LUT: AVX2 has no 128-entry byte permute, only vpshufb's 16-entry in-lane tables, so
//     the table is shrunk by its symmetries first. With a = |int8(r - q)| (0..128) and s = 64 - a
//     (-64..64): LUT[a] = S[|s|] for s > 0 and -S[|s|] for s < 0, where S[u] = LUT[64 - u] (the
//     table is odd about the quarter turn, LUT[128 - j] = -LUT[j], by CosineLut's construction),
//     and LUT[64] = 0 for s = 0: so v = vpsignb(-S[u], -s), 0 at s = 0. u = |s| is capped at 63
//     (u = 64 is a = 0 or 128, and S[64] = LUT[0] = LUT[1] = S[63] for the tables the kernel
//     accepts), leaving 64 entries in four vpshufb tables. Chunk c reads index u + 0x80 - 16 (c + 1):
//     for u < 16 (c + 1) that is below 0x80 and reads entry u mod 16, above it the top bit makes
//     vpshufb return 0; each table is stored XORed with the next one, so the XOR of the chunks
//     that read is the entry of u's own chunk. Then v (int8) is summed as vpdpbusd(ones, v), or
//     vpmaddubsw(ones, v) into int16 (at most 254 a pair). About 17 operations per dword against
//     AVX-512's 5, the price of the missing byte permute.
//   cosine dot: with AVX-VNNI vpdpbusd(r, q), the reference's cos/sin bytes biased by +128 (the
//     lanes hold the score plus 128 sum(q)), as on AVX-512. Without, vpmaddubsw(|r|, sign(q, r))
//     on unbiased int8 bytes: |r| q' is r q, and a pair of them, at most 2 127^2 = 32258, never
//     saturates int16; vpmaddwd then widens each pair to int32 (two pairs would overflow int16).
// The scan is the AVX-512 one on ymm: four queries per load of references, thresholds kept as
// vectors, a group of 8 written out and offered to the top-k only if a lane beats them.

#if TORUS_AVX2_DISPATCH
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

// acc + the four products a_j b_j (uint8 a, int8 b) of each int32 lane, unsaturated: AVX-VNNI's
// vpdpbusd on ymm. Only called when the CPU has AVX-VNNI; outside a target that has it, by its
// VEX encoding in inline assembly ("x": ymm0-15, which VEX can encode; %{ %} escape the braces).
inline __m256i dpbusd(__m256i acc, __m256i a, __m256i b) {
#if defined(__AVXVNNI__)
  return _mm256_dpbusd_avx_epi32(acc, a, b);
#else
  asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
  return acc;
#endif
}

// The LUT kernel's four vpshufb tables (code_bytes' ByteSearch::table), each in both 128-bit lanes.
struct LutTables {
  __m256i t[4];
};

// The int8 table value LUT[q - r] of each byte (see above), from r - q, whose absolute value is
// the same, so that the query's broadcast dword can be a memory operand (AVX2 has 16 ymm
// registers, not AVX-512's 32, and the tables take four).
inline __m256i lut_bytes(__m256i r, __m256i q, const LutTables& tables) {
  const __m256i s_neg = _mm256_add_epi8(_mm256_abs_epi8(_mm256_sub_epi8(r, q)), _mm256_set1_epi8(-64));
  const __m256i u = _mm256_min_epu8(_mm256_abs_epi8(s_neg), _mm256_set1_epi8(63));
  // chunk 3 reads every u: its index needs no offset
  const __m256i t01 = _mm256_xor_si256(_mm256_shuffle_epi8(tables.t[0], _mm256_add_epi8(u, _mm256_set1_epi8(0x70))),
                                       _mm256_shuffle_epi8(tables.t[1], _mm256_add_epi8(u, _mm256_set1_epi8(0x60))));
  const __m256i t23 = _mm256_xor_si256(_mm256_shuffle_epi8(tables.t[2], _mm256_add_epi8(u, _mm256_set1_epi8(0x50))),
                                       _mm256_shuffle_epi8(tables.t[3], u));
  return _mm256_sign_epi8(_mm256_xor_si256(t01, t23), s_neg);
}

template <ByteKernel kind>
inline unsigned nearer_lanes(__m256i a, __m256i b) {
  const __m256i gt = kind == ByteKernel::l1 ? _mm256_cmpgt_epi32(b, a) : _mm256_cmpgt_epi32(a, b);
  return static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(gt)));
}
template <ByteKernel kind>
inline __m256i nearer_of(__m256i a, __m256i b) {
  return kind == ByteKernel::l1 ? _mm256_min_epi32(a, b) : _mm256_max_epi32(a, b);
}

// One query group's side of a search: its query dwords (broadcast once when their number kW is
// known at compile time; otherwise re-read in the loop, as the top-k calls could, for all GCC
// knows, change them), and the scoring of 8 references.
template <ByteKernel kind, int kW, bool kVnni>
struct GroupScorer {
  static constexpr int G = kQueryGroup;
  // Dwords whose int16 pair sums (at most 256 each) add up before they are widened.
  static constexpr Eigen::Index kChunk = 64;
  static constexpr bool sum16 = !kVnni && kind != ByteKernel::dot;

  const ByteSearch& s;
  Eigen::Index W, stride;
  const std::uint32_t* q;
  LutTables tables{};
  __m256i query[kW > 0 ? G * kW : 1];

  GroupScorer(const ByteSearch& search, Eigen::Index group)
      : s(search), W(kW > 0 ? kW : search.refs.dwords()), stride(search.refs.stride()), q(search.queries.data() + group * G * W) {
    if constexpr (kind == ByteKernel::lut)
      for (int c = 0; c < 4; ++c)
        tables.t[c] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(s.table + 16 * c)));
    if constexpr (kW > 0)
      for (int j = 0; j < G * kW; ++j) query[j] = _mm256_set1_epi32(static_cast<int>(q[j]));
  }

  // The biased scores of the 8 references from n, one ymm per query.
  __attribute__((always_inline)) void score_8(Eigen::Index n, __m256i* acc) const {
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int g = 0; g < G; ++g) acc[g] = _mm256_setzero_si256();
    for (Eigen::Index w0 = 0; w0 < W; w0 += kChunk) {
      const Eigen::Index w1 = std::min(W, w0 + kChunk);
      __m256i acc16[G];
      if constexpr (sum16)
        for (int g = 0; g < G; ++g) acc16[g] = _mm256_setzero_si256();
      for (Eigen::Index w = w0; w < w1; ++w) {
        const __m256i r = _mm256_load_si256(reinterpret_cast<const __m256i*>(s.refs.data() + w * stride + n));
        [[maybe_unused]] const __m256i r_abs = kind == ByteKernel::dot && !kVnni ? _mm256_abs_epi8(r) : r;
        for (int g = 0; g < G; ++g) {
          const __m256i qw = kW > 0 ? query[g * kW + w] : _mm256_set1_epi32(static_cast<int>(q[g * W + w]));
          if constexpr (kind == ByteKernel::dot) {
            if constexpr (kVnni) acc[g] = dpbusd(acc[g], r, qw);
            else
              acc[g] = _mm256_add_epi32(acc[g], _mm256_madd_epi16(_mm256_maddubs_epi16(r_abs, _mm256_sign_epi8(qw, r)), ones16));
          } else if constexpr (kind == ByteKernel::l1) {
            const __m256i x = _mm256_abs_epi8(_mm256_sub_epi8(r, qw));
            if constexpr (kVnni) acc[g] = dpbusd(acc[g], x, ones8);
            else acc16[g] = _mm256_add_epi16(acc16[g], _mm256_maddubs_epi16(x, ones8));
          } else {
            const __m256i v = lut_bytes(r, qw, tables);
            if constexpr (kVnni) acc[g] = dpbusd(acc[g], ones8, v);
            else acc16[g] = _mm256_add_epi16(acc16[g], _mm256_maddubs_epi16(ones8, v));
          }
        }
      }
      if constexpr (sum16)
        for (int g = 0; g < G; ++g) acc[g] = _mm256_add_epi32(acc[g], _mm256_madd_epi16(acc16[g], ones16));
    }
  }
};

// Offers the `valid` lanes of acc (biased scores of the references from n) that beat their
// query's threshold, and updates those thresholds; returns the queries whose list changed.
template <Nearer nearer, ByteKernel kind>
unsigned offer_8(TopK<std::int32_t, nearer>* tops, const std::int32_t* bias, __m256i* threshold, Eigen::Index n,
                 const __m256i* acc, unsigned valid) {
  unsigned changed = 0;
  for (int g = 0; g < kQueryGroup; ++g) {
    const unsigned lanes = nearer_lanes<kind>(acc[g], threshold[g]) & valid;
    if (lanes == 0) continue;
    alignas(32) std::int32_t biased[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(biased), acc[g]);
    threshold[g] = _mm256_set1_epi32(offer_lanes(tops[g], bias[g], biased, lanes, n));
    changed |= 1u << g;
  }
  return changed;
}

// Scores query group `group` against every reference and offers them to its kQueryGroup top-k
// lists; kW dwords per row known at compile time (kW = 0: at run time); kVnni: AVX-VNNI sums.
template <ByteKernel kind, int kW, bool kVnni>
void avx2_scan(const ByteSearch& s, Eigen::Index group, TopK<std::int32_t, nearer_for(kind)>* tops) {
  constexpr int G = kQueryGroup;
  const GroupScorer<kind, kW, kVnni> scorer(s, group);
  const Eigen::Index N = s.refs.rows();
  const std::int32_t* bias = s.bias.data() + group * G;
  __m256i threshold[G];
  for (int g = 0; g < G; ++g) threshold[g] = _mm256_set1_epi32(biased_threshold(tops[g], bias[g]));

  Eigen::Index n = 0;
  // L1 and dot test two groups of 8 at once, on their lane-wise best, as on AVX-512 (the test
  // costs a third of their scoring otherwise); the LUT one group at a time, as a second group's
  // accumulators would not fit the 16 ymm registers beside its tables.
  if constexpr (kind != ByteKernel::lut) {
    for (; n + 16 <= N; n += 16) {
      __m256i a[G], b[G];
      scorer.score_8(n, a);
      scorer.score_8(n + 8, b);
      unsigned any = 0;
      for (int g = 0; g < G; ++g) any |= nearer_lanes<kind>(nearer_of<kind>(a[g], b[g]), threshold[g]);
      if (any != 0) [[unlikely]] {
        offer_8<nearer_for(kind), kind>(tops, bias, threshold, n, a, 0xFF);
        offer_8<nearer_for(kind), kind>(tops, bias, threshold, n + 8, b, 0xFF);
      }
    }
  }
  for (; n < N; n += 8) {
    __m256i a[G];
    scorer.score_8(n, a);
    unsigned any = 0;
    for (int g = 0; g < G; ++g) any |= nearer_lanes<kind>(a[g], threshold[g]);
    if (any != 0) [[unlikely]]
      offer_8<nearer_for(kind), kind>(tops, bias, threshold, n, a, N - n >= 8 ? 0xFFu : (1u << (N - n)) - 1);
  }
}

// The LUT search with the cosine dot product as a filter. Per circle |A LUT[q - r] - (C[q] C[r] +
// S[q] S[r])| <= (sqrt(2) + 1/2) A + 1/2 (each of C, S and LUT is A cos or A sin rounded, off by
// at most 1/2; the dot product's cross terms add at most sqrt(2) A + 1/2, the LUT's rounding A/2),
// so a reference whose dot sum is at most A t - margin, margin the K circles' bound, has a LUT
// score of at most t and cannot enter a list whose threshold is t. The dot product costs 1
// (AVX-VNNI) or 4 operations per dword against the LUT's 17; the exact LUT scores are computed
// only for groups of 8 in which some lane passes the filter, and only they are offered, so the
// results are the LUT search's.
struct LutByDot {
  ByteSearch codes, dots;
  std::int32_t amplitude;
  std::int64_t margin;
};

// The dot lanes' threshold for a query whose LUT threshold is top.threshold(): A t + bias - margin,
// held to the int32 range (a list not yet full: the least int32, which every lane passes).
template <Nearer nearer>
std::int32_t dot_threshold(const TopK<std::int32_t, nearer>& top, const LutByDot& s, std::int32_t bias) {
  const std::int64_t t = std::int64_t{s.amplitude} * top.threshold() + bias - s.margin;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(t, std::numeric_limits<std::int32_t>::min(),
                                                            std::numeric_limits<std::int32_t>::max()));
}

template <int kWc, int kWd, bool kVnni>
void avx2_lut_by_dot_scan(const LutByDot& s, Eigen::Index group, TopK<std::int32_t, Nearer::larger>* tops) {
  constexpr int G = kQueryGroup;
  const GroupScorer<ByteKernel::lut, kWc, kVnni> lut(s.codes, group);
  const GroupScorer<ByteKernel::dot, kWd, kVnni> dot(s.dots, group);
  const Eigen::Index N = s.codes.refs.rows();
  const std::int32_t* lut_bias = s.codes.bias.data() + group * G;  // zeros
  const std::int32_t* dot_bias = s.dots.bias.data() + group * G;
  __m256i lut_threshold[G], dot_thresholds[G];
  for (int g = 0; g < G; ++g) {
    lut_threshold[g] = _mm256_set1_epi32(biased_threshold(tops[g], lut_bias[g]));
    dot_thresholds[g] = _mm256_set1_epi32(dot_threshold(tops[g], s, dot_bias[g]));
  }
  // The exact scores of the 8 references from n, offered; the filter follows the new thresholds.
  auto exact_8 = [&](Eigen::Index n, unsigned valid) {
    __m256i a[G];
    lut.score_8(n, a);
    const unsigned changed = offer_8<Nearer::larger, ByteKernel::lut>(tops, lut_bias, lut_threshold, n, a, valid);
    for (int g = 0; g < G; ++g)
      if (changed & (1u << g)) dot_thresholds[g] = _mm256_set1_epi32(dot_threshold(tops[g], s, dot_bias[g]));
  };
  Eigen::Index n = 0;
  for (; n + 16 <= N; n += 16) {
    __m256i a[G], b[G];
    dot.score_8(n, a);
    dot.score_8(n + 8, b);
    unsigned any = 0;
    for (int g = 0; g < G; ++g) any |= nearer_lanes<ByteKernel::dot>(_mm256_max_epi32(a[g], b[g]), dot_thresholds[g]);
    if (any != 0) [[unlikely]] {
      exact_8(n, 0xFF);
      exact_8(n + 8, 0xFF);
    }
  }
  for (; n < N; n += 8) exact_8(n, N - n >= 8 ? 0xFFu : (1u << (N - n)) - 1);
}

// Hamming distances of references n0..n1-1 (n1 - n0 a multiple of 16, > 0) into out, on the
// word-major layout (4 references per ymm), kW words per row known at compile time (kW = 0: at
// run time). AVX2 has no vector popcount: each byte's count is the sum of two vpshufb look-ups
// of its nibbles; the byte counts add up over up to 31 words (at most 248), then vpsadbw sums
// each reference's 8 bytes into its 64-bit lane. Two ymm of 4 sums are packed to 8 int32 by a
// vshufps and a vpermq. Also returns the least distance, kept in a register on the way.
template <int kW>
std::int32_t avx2_hamming(const std::uint64_t* q, const std::uint64_t* refs, Eigen::Index Nr, Eigen::Index W_runtime,
                          Eigen::Index n0, Eigen::Index n1, std::int32_t* out) {
  constexpr Eigen::Index kChunk = 31;
  const Eigen::Index W = kW > 0 ? kW : W_runtime;
  const __m256i counts = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2,
                                          3, 3, 4);
  const __m256i low4 = _mm256_set1_epi8(0x0F), zero = _mm256_setzero_si256();
  __m256i best = _mm256_set1_epi32(std::numeric_limits<std::int32_t>::max());
  for (Eigen::Index n = n0; n < n1; n += 16) {
    __m256i sum[4] = {zero, zero, zero, zero};
    for (Eigen::Index w0 = 0; w0 < W; w0 += kChunk) {
      const Eigen::Index w1 = std::min(W, w0 + kChunk);
      __m256i bytes[4] = {zero, zero, zero, zero};
      for (Eigen::Index w = w0; w < w1; ++w) {
        const __m256i qw = _mm256_set1_epi64x(static_cast<long long>(q[w]));
        const std::uint64_t* r = refs + w * Nr + n;
        for (int j = 0; j < 4; ++j) {
          const __m256i x = _mm256_xor_si256(qw, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + 4 * j)));
          const __m256i lo = _mm256_shuffle_epi8(counts, _mm256_and_si256(x, low4));
          const __m256i hi = _mm256_shuffle_epi8(counts, _mm256_and_si256(_mm256_srli_epi16(x, 4), low4));
          bytes[j] = _mm256_add_epi8(bytes[j], _mm256_add_epi8(lo, hi));
        }
      }
      for (int j = 0; j < 4; ++j) sum[j] = _mm256_add_epi64(sum[j], _mm256_sad_epu8(bytes[j], zero));
    }
    // The low dword of each 64-bit sum (at most 64 W bits): vshufps takes references 0, 1, 4, 5 |
    // 2, 3, 6, 7 of a pair of sums, vpermq puts the 64-bit pairs back in order.
    for (int h = 0; h < 2; ++h) {
      const __m256 mixed = _mm256_shuffle_ps(_mm256_castsi256_ps(sum[2 * h]), _mm256_castsi256_ps(sum[2 * h + 1]),
                                             _MM_SHUFFLE(2, 0, 2, 0));
      const __m256i v = _mm256_permute4x64_epi64(_mm256_castps_si256(mixed), _MM_SHUFFLE(3, 1, 2, 0));
      best = _mm256_min_epi32(best, v);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (n - n0) + 8 * h), v);
    }
  }
  __m128i m = _mm_min_epi32(_mm256_castsi256_si128(best), _mm256_extracti128_si256(best, 1));
  m = _mm_min_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
  m = _mm_min_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(m);
}

#if TORUS_AVX2_DISPATCH
#pragma GCC pop_options
#endif

template <ByteKernel kind, bool kVnni>
ByteScanFn<kind> pick_avx2_scan(Eigen::Index W) {
  switch (W) {
    case 1: return &avx2_scan<kind, 1, kVnni>;
    case 2: return &avx2_scan<kind, 2, kVnni>;
    case 4: return &avx2_scan<kind, 4, kVnni>;
    case 8: return &avx2_scan<kind, 8, kVnni>;
    default: return &avx2_scan<kind, 0, kVnni>;
  }
}

template <bool kVnni>
void lut_by_dot_scan(const LutByDot& s, Eigen::Index g, TopK<std::int32_t, Nearer::larger>* tops) {
  // K = 8 (two code dwords, four dot dwords), the torus heads' D16, known at compile time.
  if (s.codes.refs.dwords() == 2 && s.dots.refs.dwords() == 4) avx2_lut_by_dot_scan<2, 4, kVnni>(s, g, tops);
  else avx2_lut_by_dot_scan<0, 0, kVnni>(s, g, tops);
}

template <ByteKernel kind>
KnnResult<std::int32_t> run(const ByteSearch& s, Eigen::Index Nq, int k, int threads, bool vnni) {
  return byte_search<kind>(s, Nq, k, threads, vnni ? pick_avx2_scan<kind, true>(s.refs.dwords())
                                                   : pick_avx2_scan<kind, false>(s.refs.dwords()));
}

}  // namespace

HammingFn pick_avx2_hamming(Eigen::Index W) {
  switch (W) {
    case 1: return &avx2_hamming<1>;
    case 2: return &avx2_hamming<2>;
    case 4: return &avx2_hamming<4>;
    default: return &avx2_hamming<0>;
  }
}

KnnResult<std::int32_t> avx2_code_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                         const CosineLut* lut, int k, int threads, bool vnni) {
  // Padding: for L1 0 against 0; for the LUT 64 against 0, a = 64, s = 0, which reads 0.
  ByteSearch s = code_bytes(queries, refs, lut ? 64 : 0);
  if (!lut) return run<ByteKernel::l1>(s, queries.rows(), k, threads, vnni);
  // -S[u] = -LUT[64 - u] in four chunks of 16, each but the last XORed with the chunk after it.
  std::int8_t S[64];
  for (int u = 0; u < 64; ++u) S[u] = static_cast<std::int8_t>(-(*lut)[static_cast<std::uint8_t>(64 - u)]);
  for (int u = 0; u < 64; ++u) s.table[u] = static_cast<std::int8_t>(u >= 48 ? S[u] : S[u] ^ S[u + 16]);
  // The dot filter's lanes must fit int32 as knn_cosine_dot's do (K <= 33155 at A = 127); wider
  // codes are scored by the LUT alone.
  const std::int64_t K = queries.cols(), A = lut->amplitude();
  if (K * 2 * 255 * A > std::numeric_limits<std::int32_t>::max())
    return run<ByteKernel::lut>(s, queries.rows(), k, threads, vnni);
  // Per circle ceil((sqrt(2) + 1/2) A + 1/2) + 1: the bound rounded up, plus one for the rounding
  // of cos in double.
  const auto per_circle = static_cast<std::int64_t>(std::ceil((std::sqrt(2.0) + 0.5) * static_cast<double>(A) + 0.5)) + 1;
  const LutByDot filtered{std::move(s), dot_bytes(queries, refs, *lut, vnni ? 128 : 0), static_cast<std::int32_t>(A),
                          K * per_circle};
  return group_search<Nearer::larger>(queries.rows(), k, threads, [&](Eigen::Index g, TopK<std::int32_t, Nearer::larger>* tops) {
    if (vnni) lut_by_dot_scan<true>(filtered, g, tops);
    else lut_by_dot_scan<false>(filtered, g, tops);
  });
}

KnnResult<std::int32_t> avx2_dot_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                        const CosineLut& lut, int k, int threads, bool vnni) {
  return run<ByteKernel::dot>(dot_bytes(queries, refs, lut, vnni ? 128 : 0), queries.rows(), k, threads, vnni);
}

}  // namespace detail
}  // namespace torus::geometry

#else

namespace torus::geometry {
bool avx2_search_kernels() { return false; }
bool avx2_vnni_search_kernels() { return false; }
}  // namespace torus::geometry

#endif
