// Exact k-nearest-neighbour search of queries against references, for every representation the
// project evaluates (method.md 8, 9, 12): float inner product, uint8 torus codes by the cosine LUT,
// by the cosine dot product or by circular L1, packed 1-bit codes by Hamming distance, and
// (circular) product-quantiser codes by asymmetric distance tables.
//
// Common contract:
//   - Exact: every reference is scored; results are (N_q, k), nearest first (KnnResult, top_k.hpp).
//   - Ties go to the lower reference index, at any k (1 <= k <= number of references).
//   - threads >= 1 OpenMP threads split the queries; a query's result depends only on its own
//     scores, offered to its top-k in reference order (the SIMD kernels score four queries
//     side by side, each in its own lanes), so results are identical bit for bit at any thread
//     count (and with OpenMP off, when threads is ignored).
//   - Throws std::invalid_argument for mismatched widths, k out of range, threads < 1, a score
//     that could overflow its int32 sum, or non-finite float input.
//
// Speed: the uint8 and 1-bit kernels have SIMD paths, chosen at run time by the CPU (GCC on
// x86-64 compiles each under a target pragma in portable builds, so the default build has them
// all): AVX-512 (F, BW, VBMI, VNNI, VPOPCNTDQ), then AVX2 (with AVX-VNNI's vpdpbusd on ymm where
// the CPU has it), then portable loops that GCC vectorises. On AVX-512 one int32 lane holds four
// bytes of one reference, VBMI's two-table byte permute looks up 64 LUT entries at once, VNNI's
// vpdpbusd sums four bytes (or four byte products) into each lane, four queries share each load
// of 16 references, and scores stay in registers unless one beats the query's current k-th. The
// AVX2 kernels do the same on 8 references a ymm; without a byte permute their LUT look-up costs
// 17 operations a dword, so the AVX2 LUT search filters by the cos/sin dot product first, whose
// sum bounds the LUT score, and looks up only the references that can still enter
// (code_search_avx2.cpp). Every path returns the same results bit for bit (the tests check each
// against brute force). The float search is Eigen's GEMM on blocks of 32 queries x 1024
// references followed by a vectorised top-k filter.
//
// Choosing the path: SearchKernel::fastest takes the environment variable TORUS_SEARCH_KERNEL
// (avx512, avx2-vnni, avx2 or portable; read once, on the first search; unset or empty: the best
// the CPU has, in that order), so any program (torus-index, torus-quant-eval, torus-bench) can be
// forced onto a path; the other SearchKernel values force one in code. avx2 is AVX2 alone, what
// every AVX2 CPU runs, even on one that also has AVX-VNNI (avx2-vnni). Asking for a path this
// CPU (or this build) lacks throws std::runtime_error; an unknown value of the variable throws
// std::invalid_argument naming it. The LUT kernels need an int8 table (amplitude <= 127); other
// tables run the portable loop on any path.
#pragma once

#include "geometry/circular_pq.hpp"
#include "geometry/product_quantizer.hpp"
#include "geometry/row_matrix.hpp"
#include "geometry/top_k.hpp"
#include "geometry/uint8_codes.hpp"

#include <cstdint>

namespace torus::geometry {

enum class SearchKernel { fastest, avx512, avx2_vnni, avx2, portable };

// Whether the AVX-512 kernels (they need AVX-512 F, BW, VBMI, VNNI and VPOPCNTDQ), the AVX2 ones
// with AVX-VNNI, or the AVX2 ones alone can run: compiled for the target (-march=native on such a
// CPU), or, with GCC on x86-64, compiled under a target pragma and found on this CPU at run time.
bool avx512_search_kernels();
bool avx2_vnni_search_kernels();
bool avx2_search_kernels();

// "avx512", "avx2-vnni", "avx2", "portable" (and "fastest").
const char* search_kernel_name(SearchKernel kernel);

// The value of TORUS_SEARCH_KERNEL as a kernel: nullptr or "" is fastest (not set); otherwise
// "avx512", "avx2-vnni", "avx2" or "portable", anything else throws std::invalid_argument naming
// the variable and the accepted values.
SearchKernel parse_search_kernel_setting(const char* value);

// The path a search asked for `kernel` runs: avx512, avx2_vnni, avx2 or portable. fastest is the
// environment's setting if any, else the best this CPU has. Throws std::runtime_error if the
// path asked for (in code or by the variable) cannot run here.
SearchKernel resolve_search_kernel(SearchKernel kernel);

// knn_inner_product scores references in blocks of this many rows, each block one GEMM: a score
// is the same bit for bit wherever the references are cut at multiples of it (a sharded search
// cuts there), not elsewhere (the GEMM's edge kernels round differently).
inline constexpr std::int64_t kInnerProductRefBlock = 1024;

// Float (N_q, D) x (N, D): score = <q, r>, larger is nearer. The uncompressed baseline (faiss
// IndexFlatIP); for torusN z, or the Clifford vectors of torusC, it is the Clifford inner product.
KnnResult<float> knn_inner_product(const Eigen::Ref<const RowMatrix<float>>& queries,
                                   const Eigen::Ref<const RowMatrix<float>>& refs, int k, int threads);

// uint8 torus codes (N_q, K) x (N, K): score = sum_k LUT[uint8(q_k - r_k)] in int32, A times the
// Clifford inner product of the decoded codes up to K/2 of table rounding; larger is nearer.
// The SIMD kernels need amplitude <= 127 (an int8 table; the default); larger amplitudes use the
// portable loop.
KnnResult<std::int32_t> knn_cosine_lut(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                       const CosineLut& lut, int k, int threads,
                                       SearchKernel kernel = SearchKernel::fastest);

// uint8 torus codes by the cosine of the angle difference as a dot product, cos(a - b) =
// cos a cos b + sin a sin b: score = sum_k C[q_k] C[r_k] + S[q_k] S[r_k] in int32, with the int8
// tables C[j] = LUT[j] and S[j] = LUT[uint8(j - 64)] (A cos and A sin of 2 pi j / 256); A^2 times
// the Clifford inner product of the decoded codes up to table rounding; larger is nearer. Needs
// amplitude <= 127 and K * 2 * 255 * A < 2^31 (K <= 33155 at A = 127; the AVX-512 kernel's lanes
// carry a bias). The AVX-512 kernel scores it with vpdpbusd alone, no table look-up, on an index
// it builds first with 2K bytes per reference (16 for K = 8: twice the codes): about 1.4x as fast
// as knn_cosine_lut on Zen 5.
KnnResult<std::int32_t> knn_cosine_dot(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                       const CosineLut& lut, int k, int threads,
                                       SearchKernel kernel = SearchKernel::fastest);

// uint8 torus codes: score = circular L1, sum_k |int8(uint8(q_k - r_k))| with -128 counted as 128;
// smaller is nearer.
KnnResult<std::int32_t> knn_circular_l1(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                        int k, int threads, SearchKernel kernel = SearchKernel::fastest);

// Packed 1-bit codes (N_q, W) x (N, W) words: score = Hamming distance popcount(q XOR r); smaller
// is nearer. Unused high bits must be zero in both (pack_bits guarantees it).
KnnResult<std::int32_t> knn_hamming(const Eigen::Ref<const BitCodeMatrix>& queries,
                                    const Eigen::Ref<const BitCodeMatrix>& refs, int k, int threads,
                                    SearchKernel kernel = SearchKernel::fastest);

// Product quantiser, asymmetric: float queries (N_q, d) (in the space the quantiser was trained
// on) against PQ codes (N, M). score = sum_m table(m, code_m) with pq.distance_table(query), summed
// in float in sub-quantiser order: the squared L2 distance to the reconstruction. Smaller is nearer.
KnnResult<float> knn_pq(const ProductQuantizer& pq, const Eigen::Ref<const RowMatrix<float>>& queries,
                        const Eigen::Ref<const CodeMatrix>& codes, int k, int threads);

// Circular product quantiser, asymmetric: query angles (N_q, d) against codes (N, M); score = the
// circular distance sum over circles of 1 - cos(2 pi (q - c)) to the reconstruction, from
// pq.distance_table, summed the same way. Smaller is nearer.
KnnResult<float> knn_circular_pq(const CircularProductQuantizer& pq, const Eigen::Ref<const RowMatrix<float>>& query_angles,
                                 const Eigen::Ref<const CodeMatrix>& codes, int k, int threads);

}  // namespace torus::geometry
