// The code searches' drivers, argument checks, the choice of kernel and the portable loops; the
// SIMD kernels are in code_search_avx512.cpp and code_search_avx2.cpp.
#include "geometry/code_search.hpp"

#include "geometry/code_search_avx2.hpp"
#include "geometry/code_search_avx512.hpp"
#include "geometry/search_common.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace torus::geometry {

const char* search_kernel_name(SearchKernel kernel) {
  switch (kernel) {
    case SearchKernel::fastest: return "fastest";
    case SearchKernel::avx512: return "avx512";
    case SearchKernel::avx2_vnni: return "avx2-vnni";
    case SearchKernel::avx2: return "avx2";
    case SearchKernel::portable: return "portable";
  }
  return "unknown";
}

SearchKernel parse_search_kernel_setting(const char* value) {
  if (value == nullptr || *value == '\0') return SearchKernel::fastest;
  for (SearchKernel k : {SearchKernel::avx512, SearchKernel::avx2_vnni, SearchKernel::avx2, SearchKernel::portable})
    if (std::string_view(value) == search_kernel_name(k)) return k;
  throw std::invalid_argument(std::string("TORUS_SEARCH_KERNEL=\"") + value +
                              "\" is not a search kernel (accepted: avx512, avx2-vnni, avx2, portable, or unset for the fastest)");
}

SearchKernel resolve_search_kernel(SearchKernel kernel) {
  const char* source = "SearchKernel";
  if (kernel == SearchKernel::fastest) {
    // Read once: a search's path must not change under a running program. A bad value throws
    // here on every search (the static is not initialised), so no search runs with it.
    static const SearchKernel setting = parse_search_kernel_setting(std::getenv("TORUS_SEARCH_KERNEL"));
    kernel = setting;
    source = "TORUS_SEARCH_KERNEL";
  }
  struct Path {
    SearchKernel kernel;
    bool (*available)();
    const char* needs;
  };
  static constexpr Path paths[] = {{SearchKernel::avx512, avx512_search_kernels, "AVX-512 F/BW/VBMI/VNNI/VPOPCNTDQ"},
                                   {SearchKernel::avx2_vnni, avx2_vnni_search_kernels, "AVX2 and AVX-VNNI"},
                                   {SearchKernel::avx2, avx2_search_kernels, "AVX2"}};
  if (kernel == SearchKernel::fastest) {
    for (const Path& p : paths)
      if (p.available()) return p.kernel;
    return SearchKernel::portable;
  }
  for (const Path& p : paths) {
    if (p.kernel != kernel || p.available()) continue;
    std::string here;
    for (const Path& q : paths)
      if (q.available()) here += std::string(search_kernel_name(q.kernel)) + ", ";
    throw std::runtime_error(std::string(source) + " asks for the " + search_kernel_name(kernel) +
                             " search kernels, but this CPU or build lacks " + p.needs + " (available here: " + here +
                             "portable)");
  }
  return kernel;
}

namespace detail {

bool lut_fits_int8_kernels(const CosineLut& lut) {
  bool fits = lut.amplitude() <= 127 && lut[127] == lut[128] && lut[64] == 0;
  for (int j = 1; j < 128 && fits; ++j) fits = lut[static_cast<std::uint8_t>(256 - j)] == lut[static_cast<std::uint8_t>(j)];
  return fits;
}

ByteSearch code_bytes(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                      std::uint8_t query_pad) {
  const Eigen::Index K = queries.cols(), W = (K + 3) / 4;
  return ByteSearch(queries.rows(), refs.rows(), W, [&](int which, Eigen::Index n, std::uint8_t* out) {
    std::fill(out + K, out + 4 * W, which == 0 ? query_pad : std::uint8_t{0});
    for (Eigen::Index c = 0; c < K; ++c) out[c] = which == 0 ? queries(n, c) : refs(n, c);
  });
}

ByteSearch dot_bytes(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                     const CosineLut& lut, int ref_bias) {
  const Eigen::Index K = queries.cols(), W = (2 * K + 3) / 4;
  const CosSinBytes query_bytes(lut, 0), ref_bytes(lut, ref_bias);
  ByteSearch s(queries.rows(), refs.rows(), W, [&](int which, Eigen::Index n, std::uint8_t* out) {
    std::fill(out + 2 * K, out + 4 * W, std::uint8_t{0});
    if (which == 0) query_bytes.row(queries, n, out);
    else ref_bytes.row(refs, n, out);
  });
  for (Eigen::Index i = 0; i < queries.rows(); ++i) {
    const auto* q = reinterpret_cast<const std::uint8_t*>(s.queries.data() + i * W);
    std::int32_t sum = 0;
    for (Eigen::Index j = 0; j < 2 * K; ++j) sum += static_cast<std::int8_t>(q[j]);
    s.bias[static_cast<std::size_t>(i)] = ref_bias * sum;
  }
  return s;
}

}  // namespace detail

namespace {
using detail::check_byte_sum;
using detail::column_major;
using detail::CosSinBytes;
using detail::kRefBlock;
using detail::search_each_query;

// ---- uint8 torus codes: portable ---------------------------------------------------------------

// For each circle, a pass over the block's references, which GCC vectorises. Circular L1
// accumulates in int16 when K * 128 fits (twice the lanes of int32 per instruction); the LUT
// loop is a gather from an int32 copy of the table (no SIMD byte shuffle in portable C++), so it
// is far slower than the SIMD kernels.
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

KnnResult<std::int32_t> byte_code_search(const char* what, const Eigen::Ref<const CodeMatrix>& queries,
                                         const Eigen::Ref<const CodeMatrix>& refs, const CosineLut* lut, int k,
                                         int threads, SearchKernel kernel) {
  check_knn_arguments(what, queries.cols(), refs.rows(), refs.cols(), k, threads);
  const Eigen::Index K = queries.cols(), Nr = refs.rows(), Nq = queries.rows();
  check_byte_sum(what, K, lut ? lut->amplitude() : 128);
  constexpr Nearer order_lut = Nearer::larger, order_l1 = Nearer::smaller;

  const SearchKernel path = resolve_search_kernel(kernel);
  if (!lut || detail::lut_fits_int8_kernels(*lut)) {
#if TORUS_AVX512_CODES
    if (path == SearchKernel::avx512) return detail::avx512_code_search(queries, refs, lut, k, threads);
#endif
#if TORUS_AVX2_CODES
    if (path == SearchKernel::avx2_vnni || path == SearchKernel::avx2)
      return detail::avx2_code_search(queries, refs, lut, k, threads, path == SearchKernel::avx2_vnni);
#endif
  }
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

// Word-major (W, N): word w of 8 consecutive references is one zmm (4 one ymm). The portable loop is plain
// std::popcount, which GCC turns into vpopcntq where the target has it.
struct HammingScorer {
  const std::uint64_t* queries;  // (N_q, W) row-major
  const std::uint64_t* refs;     // (W, N)
  Eigen::Index W, Nr;
  detail::HammingFn distances;   // the SIMD kernel, or nullptr for the portable loop
  const std::uint64_t* q = nullptr;

  void start(Eigen::Index i) { q = queries + i * W; }
  // Returns the block's least distance.
  std::int32_t score(Eigen::Index n0, Eigen::Index n1, std::int32_t* __restrict out) const {
    Eigen::Index n = n0;
    std::int32_t best = std::numeric_limits<std::int32_t>::max();
    if (distances && n1 - n0 >= 16) {
      n = n0 + (n1 - n0) / 16 * 16;
      best = distances(q, refs, Nr, W, n0, n, out);
    }
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
  const SearchKernel path = resolve_search_kernel(kernel);
#if TORUS_AVX512_CODES
  if (path == SearchKernel::avx512) return detail::avx512_dot_search(queries, refs, lut, k, threads);
#endif
#if TORUS_AVX2_CODES
  if (path == SearchKernel::avx2_vnni || path == SearchKernel::avx2)
    return detail::avx2_dot_search(queries, refs, lut, k, threads, path == SearchKernel::avx2_vnni);
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
  detail::HammingFn distances = nullptr;
  const SearchKernel path = resolve_search_kernel(kernel);
#if TORUS_AVX512_CODES
  if (path == SearchKernel::avx512) distances = detail::pick_avx512_hamming(queries.cols());
#endif
#if TORUS_AVX2_CODES
  if (path == SearchKernel::avx2_vnni || path == SearchKernel::avx2) distances = detail::pick_avx2_hamming(queries.cols());
#endif
  const HammingScorer proto{q.data(), r.data(), queries.cols(), refs.rows(), distances};
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
  constexpr Eigen::Index kQ = 32, kR = kInnerProductRefBlock;
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
