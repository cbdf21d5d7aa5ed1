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
// Four queries are scored against each loaded group of references, which shares the loads and
// keeps independent chains of vpdpbusd in flight (2 or 8 measured no faster).

enum class ByteKernel { lut, l1, dot };

constexpr Nearer nearer_for(ByteKernel kind) { return kind == ByteKernel::l1 ? Nearer::smaller : Nearer::larger; }

// Queries scored together against each group of 16 references.
constexpr int kQueryGroup = 4;

// Byte rows stored dword-major: dword w of row n at [w stride + n], stride = N rounded up to 16,
// from a 64-byte aligned start, so one aligned load (one cache line) holds dword w of 16
// consecutive rows. Built in place from row_bytes(n, out), which writes row n's 4 W bytes: a fresh
// page costs a page fault, more than filling it does, so the index is the only large buffer. The rows
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

}  // namespace

Avx512HammingFn pick_avx512_hamming(Eigen::Index W) {
  switch (W) {
    case 1: return &avx512_hamming<1>;
    case 2: return &avx512_hamming<2>;
    case 4: return &avx512_hamming<4>;
    default: return &avx512_hamming<0>;
  }
}

namespace {

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

}  // namespace

bool lut_fits_avx512(const CosineLut& lut) {
  bool fits = lut.amplitude() <= 127 && lut[127] == lut[128] && lut[64] == 0;
  for (int j = 1; j < 128 && fits; ++j) fits = lut[static_cast<std::uint8_t>(256 - j)] == lut[static_cast<std::uint8_t>(j)];
  return fits;
}

namespace {

// LUT and circular L1 on the codes themselves. Padding bytes add nothing: for L1 the difference
// of two zeros, for the LUT LUT[64 - 0] = round(A cos(pi / 2)) = 0.
Avx512ByteSearch code_bytes(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
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
Avx512ByteSearch dot_bytes(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
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
}  // namespace

KnnResult<std::int32_t> avx512_code_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                           const CosineLut* lut, int k, int threads) {
  const Avx512ByteSearch s = code_bytes(queries, refs, lut);
  return lut ? avx512_byte_search<ByteKernel::lut>(s, queries.rows(), k, threads)
             : avx512_byte_search<ByteKernel::l1>(s, queries.rows(), k, threads);
}

KnnResult<std::int32_t> avx512_dot_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                          const CosineLut& lut, int k, int threads) {
  return avx512_byte_search<ByteKernel::dot>(dot_bytes(queries, refs, lut), queries.rows(), k, threads);
}

}  // namespace detail
}  // namespace torus::geometry

#else

namespace torus::geometry {
bool avx512_search_kernels() { return false; }
}  // namespace torus::geometry

#endif
