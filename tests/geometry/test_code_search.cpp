// Exact k-NN search against a naive brute force (every score, then a stable sort, so ties go to
// the lower reference index): float inner product, uint8 codes by the cosine LUT, by the cosine
// dot product and by circular L1, 1-bit Hamming, PQ and circular PQ. Indices and scores must be
// equal exactly, at k = 1, k > 1 (also more than two 16-reference groups) and k = N, at 1 and 2
// threads, through every kernel path this CPU can run: AVX-512, AVX2 with and without AVX-VNNI,
// portable, and the fastest (so on a CPU with all of them, every path is checked). The data are
// drawn from small alphabets so ties are common; the reference counts cross the 1024-reference
// block and the 8-, 16- and 32-reference SIMD steps with remainders, and the query counts are not
// whole groups of 4 (the SIMD kernels score four queries at a time; 70 is also several OpenMP
// chunks of them). Every byte difference, wraparound included, is scored by each path on its own
// test.
#include <catch2/catch.hpp>

#include "geometry/clifford_torus.hpp"
#include "geometry/code_search.hpp"
#include "geometry/one_bit_codes.hpp"
#include "geometry_test_util.hpp"
#include "knn_brute_force.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace torus::geometry;
using namespace torus::geometry::testing;

namespace {

// Codes mostly from the four quarter turns (LUT values A, 0, -A, 0; L1 steps of 64: many exact
// ties), one in eight a uniform byte (every table entry and wrap case gets exercised).
CodeMatrix random_codes(Eigen::Index N, Eigen::Index K, std::uint64_t seed) {
  static const std::uint8_t alphabet[] = {0, 64, 128, 192};
  std::mt19937_64 rng(seed);
  CodeMatrix c(N, K);
  for (Eigen::Index i = 0; i < c.size(); ++i) {
    const std::uint64_t r = rng();
    c.data()[i] = (r & 7) == 0 ? static_cast<std::uint8_t>(r >> 8) : alphabet[(r >> 8) % 4];
  }
  return c;
}

// A kernel path, named for the messages.
struct Path {
  const char* name;
  SearchKernel kernel;
};

// Every path this CPU can run.
std::vector<Path> kernel_paths() {
  std::vector<Path> paths{{"fastest", SearchKernel::fastest}, {"portable", SearchKernel::portable}};
  if (avx512_search_kernels()) paths.push_back({"avx512", SearchKernel::avx512});
  if (avx2_vnni_search_kernels()) paths.push_back({"avx2-vnni", SearchKernel::avx2_vnni});
  if (avx2_search_kernels()) paths.push_back({"avx2", SearchKernel::avx2});
  return paths;
}

constexpr Eigen::Index kRefCounts[] = {5, 17, 1029, 2063, 4133};

// sum_k C[q_k] C[r_k] + S[q_k] S[r_k] with C[j] = LUT[j], S[j] = LUT[j - 64], written out.
std::int32_t cosine_dot(const CosineLut& lut, const std::uint8_t* q, const std::uint8_t* r, Eigen::Index K) {
  std::int32_t sum = 0;
  for (Eigen::Index k = 0; k < K; ++k) {
    sum += lut[q[k]] * lut[r[k]];
    sum += lut[static_cast<std::uint8_t>(q[k] - 64)] * lut[static_cast<std::uint8_t>(r[k] - 64)];
  }
  return sum;
}

// Checks `search(queries, refs, k, threads, path)` against brute force on the pairwise scores
// `score(query row, reference row)` (larger is nearer) for every reference count, k of `ks`
// (up to N) and k = N for the small counts, every path and 1 and 2 threads; returns the tied
// adjacent neighbours seen.
template <typename Score, typename Search>
Eigen::Index check_byte_search(Eigen::Index K, std::uint64_t seed, std::initializer_list<int> ks, const Score& score,
                               const Search& search) {
  Eigen::Index ties = 0;
  for (Eigen::Index Nr : kRefCounts) {
    const CodeMatrix refs = random_codes(Nr, K, seed + static_cast<std::uint64_t>(K * Nr));
    const CodeMatrix queries = random_codes(K == 8 ? 70 : 23, K, seed / 20 + static_cast<std::uint64_t>(K));
    RowMatrix<std::int32_t> s(queries.rows(), Nr);
    for (Eigen::Index i = 0; i < queries.rows(); ++i)
      for (Eigen::Index n = 0; n < Nr; ++n) s(i, n) = score(queries.row(i).data(), refs.row(n).data());
    std::vector<int> all_k(ks);
    if (Nr < 100) all_k.push_back(static_cast<int>(Nr));
    for (int k : all_k) {
      if (k > Nr) continue;
      const KnnResult<std::int32_t> expected = brute_force_top_k(s, k, Nearer::larger);
      ties += tied_neighbours(expected);
      for (const Path& path : kernel_paths()) {
        for (int threads : {1, 2}) {
          INFO("K " << K << " N " << Nr << " k " << k << " threads " << threads << " path " << path.name);
          CHECK(same_result(search(queries, refs, k, threads, path), expected));
        }
      }
    }
  }
  return ties;
}

}  // namespace

TEST_CASE("knn_cosine_lut equals brute force (ties, k > 1, threads, kernels, padding)", "[geometry][search]") {
  INFO("AVX-512 kernels: " << avx512_search_kernels() << ", AVX2 + AVX-VNNI: " << avx2_vnni_search_kernels()
                              << ", AVX2: " << avx2_search_kernels());
  Eigen::Index ties = 0;
  for (int A : {127, 90, 1000}) {  // 1000 exceeds the int8 table: every path falls back
    const CosineLut lut(A);
    INFO("A " << A);
    // 11: a row width (3 dwords) chosen at run time; 300: 75 dwords, more than the 64 whose int16
    // sums the AVX2 kernel without VNNI adds up before widening
    for (Eigen::Index K : {8, 16, 5, 11, 13, 1, 300}) {
      ties += check_byte_search(
          K, 100, {1, 4}, [&](const std::uint8_t* q, const std::uint8_t* r) { return lut.similarity(q, r, static_cast<int>(K)); },
          [&](const CodeMatrix& q, const CodeMatrix& r, int k, int threads, const Path& path) {
            return knn_cosine_lut(q, r, lut, k, threads, path.kernel);
          });
    }
  }
  // the data do produce ties among the returned neighbours (over 3000 adjacent pairs)
  INFO("tied adjacent neighbours: " << ties);
  CHECK(ties > 500);
}

TEST_CASE("knn_cosine_dot equals brute force (ties, k > 1, threads, kernels, padding)", "[geometry][search]") {
  INFO("AVX-512 kernels: " << avx512_search_kernels() << ", AVX2 + AVX-VNNI: " << avx2_vnni_search_kernels()
                              << ", AVX2: " << avx2_search_kernels());
  Eigen::Index ties = 0;
  for (int A : {127, 90}) {
    const CosineLut lut(A);
    INFO("A " << A);
    // 2K bytes a row: 16, 32, 10 (padded to 12), 26 (28, 7 dwords: chosen at run time), 2, 6, 600
    for (Eigen::Index K : {8, 16, 5, 13, 1, 3, 300}) {
      ties += check_byte_search(
          K, 200, {1, 4, 37}, [&](const std::uint8_t* q, const std::uint8_t* r) { return cosine_dot(lut, q, r, K); },
          [&](const CodeMatrix& q, const CodeMatrix& r, int k, int threads, const Path& path) {
            return knn_cosine_dot(q, r, lut, k, threads, path.kernel);
          });
    }
  }
  INFO("tied adjacent neighbours: " << ties);
  CHECK(ties > 5000);
  // code 0 is (C, S) = (A, 0) and code 128 is (-A, 0): identical codes score K A^2, opposite -K A^2
  const CodeMatrix zeros = CodeMatrix::Zero(1, 8), halves = CodeMatrix::Constant(1, 8, 128);
  CHECK(knn_cosine_dot(zeros, zeros, CosineLut(127), 1, 1).scores(0, 0) == 8 * 127 * 127);
  CHECK(knn_cosine_dot(zeros, halves, CosineLut(127), 1, 1).scores(0, 0) == -8 * 127 * 127);
}

TEST_CASE("dot search scores are A^2 times the Clifford inner product of the decoded codes, up to rounding",
          "[geometry][search]") {
  const int K = 8, A = 127;
  const CodeMatrix refs = random_codes(3000, K, 15), queries = random_codes(40, K, 16);
  const RowMatrix<double> cr = clifford_project<double>(decode_angles<double>(refs));
  const RowMatrix<double> cq = clifford_project<double>(decode_angles<double>(queries));
  const RowMatrix<double> ip = cq * cr.transpose();
  const KnnResult<std::int32_t> r = knn_cosine_dot(queries, refs, CosineLut(A), 3, 2);
  // C = A cos + e with |e| <= 1/2: per circle |C C' + S S' - A^2 cos(a - b)| <= A (|cos a| + |cos b|
  // + |sin a| + |sin b|) / 2 + 1/2 <= sqrt(2) A + 1/2
  const double bound = K * (std::sqrt(2.0) * A + 0.5) / (double(A) * A);
  double worst = 0;
  for (Eigen::Index i = 0; i < queries.rows(); ++i)
    for (Eigen::Index j = 0; j < 3; ++j) worst = std::max(worst, std::abs(r.scores(i, j) / (double(A) * A) - ip(i, r.indices(i, j))));
  INFO("worst |S/A^2 - <c_q, c_r>| = " << worst << ", bound " << bound);
  CHECK(worst <= bound);
  CHECK(worst > 0);  // the tables do round
}

TEST_CASE("LUT search scores are A times the Clifford inner product of the decoded codes, up to rounding",
          "[geometry][search]") {
  const int K = 8, A = 127;
  const CodeMatrix refs = random_codes(3000, K, 5), queries = random_codes(40, K, 6);
  const RowMatrix<double> cr = clifford_project<double>(decode_angles<double>(refs));
  const RowMatrix<double> cq = clifford_project<double>(decode_angles<double>(queries));
  const RowMatrix<double> ip = cq * cr.transpose();  // (40, 3000) exact float similarities
  const KnnResult<std::int32_t> r = knn_cosine_lut(queries, refs, CosineLut(A), 3, 2);
  const double bound = K * 0.5 / A;  // each of the K table entries is off by at most 1/2
  double worst = 0, worst_rank = 0;
  for (Eigen::Index i = 0; i < queries.rows(); ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) worst = std::max(worst, std::abs(r.scores(i, j) / double(A) - ip(i, r.indices(i, j))));
    // the LUT's nearest is within two roundings of the float nearest
    worst_rank = std::max(worst_rank, ip.row(i).maxCoeff() - ip(i, r.indices(i, 0)));
  }
  INFO("worst |S/A - <c_q, c_r>| = " << worst << ", worst loss of the top-1 = " << worst_rank);
  CHECK(worst <= bound + 1e-12);
  CHECK(worst_rank <= 2 * bound + 1e-12);
}

TEST_CASE("knn_circular_l1 equals brute-force wrapped differences", "[geometry][search]") {
  for (Eigen::Index K : {8, 16, 3, 9, 300}) {  // 9, 300: row widths chosen at run time; 300: K * 128 overflows the portable int16 sums
    for (Eigen::Index Nr : kRefCounts) {
      const CodeMatrix refs = random_codes(Nr, K, 300 + static_cast<std::uint64_t>(K * Nr));
      const CodeMatrix queries = random_codes(K == 8 ? 70 : 19, K, 17 + static_cast<std::uint64_t>(K));
      RowMatrix<std::int32_t> s(queries.rows(), Nr);
      for (Eigen::Index i = 0; i < queries.rows(); ++i) {
        for (Eigen::Index n = 0; n < Nr; ++n) {
          int sum = 0;  // the shorter way round each circle, from the plain integer difference
          for (Eigen::Index k = 0; k < K; ++k) {
            const int d = std::abs(int(queries(i, k)) - int(refs(n, k)));
            sum += std::min(d, 256 - d);
          }
          s(i, n) = sum;
        }
      }
      for (int k : {1, 5, 37, static_cast<int>(Nr)}) {
        if (k > Nr || (k == Nr && Nr > 100)) continue;
        const KnnResult<std::int32_t> expected = brute_force_top_k(s, k, Nearer::smaller);
        for (const Path& path : kernel_paths()) {
          for (int threads : {1, 2}) {
            INFO("K " << K << " N " << Nr << " k " << k << " threads " << threads << " path " << path.name);
            CHECK(same_result(knn_circular_l1(queries, refs, k, threads, path.kernel), expected));
          }
        }
      }
    }
  }
  // -128 counts as 128: codes 0 and 128 are 128 apart per circle
  CodeMatrix a = CodeMatrix::Zero(1, 8), b = CodeMatrix::Constant(1, 8, 128);
  CHECK(knn_circular_l1(a, b, 1, 1).scores(0, 0) == 8 * 128);
}

TEST_CASE("every byte difference, wraparound included, scores the same on every path", "[geometry][search]") {
  // Reference n's circle c holds (n + 37 c) mod 256, so each query code meets every difference
  // 0..255 on every circle; the queries hold the edge codes 0, 1, 127, 128, 255 and 64, 192.
  const Eigen::Index K = 9, Nr = 256 + 19;  // 9: a padded third dword; 275: a tail of 3 after 16-reference steps
  CodeMatrix refs(Nr, K);
  for (Eigen::Index n = 0; n < Nr; ++n)
    for (Eigen::Index c = 0; c < K; ++c) refs(n, c) = static_cast<std::uint8_t>(n + 37 * c);
  const std::uint8_t edges[] = {0, 1, 127, 128, 255, 64, 192};
  CodeMatrix queries(7, K);
  for (Eigen::Index i = 0; i < 7; ++i)
    for (Eigen::Index c = 0; c < K; ++c) queries(i, c) = edges[(i + c) % 7];
  const CosineLut lut(127);
  RowMatrix<std::int32_t> lut_s(7, Nr), l1_s(7, Nr), dot_s(7, Nr);
  for (Eigen::Index i = 0; i < 7; ++i) {
    for (Eigen::Index n = 0; n < Nr; ++n) {
      lut_s(i, n) = lut.similarity(queries.row(i).data(), refs.row(n).data(), static_cast<int>(K));
      l1_s(i, n) = circular_l1(queries.row(i).data(), refs.row(n).data(), static_cast<int>(K));
      dot_s(i, n) = cosine_dot(lut, queries.row(i).data(), refs.row(n).data(), K);
    }
  }
  for (int k : {1, 7, static_cast<int>(Nr)}) {
    const KnnResult<std::int32_t> lut_e = brute_force_top_k(lut_s, k, Nearer::larger);
    const KnnResult<std::int32_t> l1_e = brute_force_top_k(l1_s, k, Nearer::smaller);
    const KnnResult<std::int32_t> dot_e = brute_force_top_k(dot_s, k, Nearer::larger);
    for (const Path& path : kernel_paths()) {
      for (int threads : {1, 2}) {
        INFO("k " << k << " threads " << threads << " path " << path.name);
        CHECK(same_result(knn_cosine_lut(queries, refs, lut, k, threads, path.kernel), lut_e));
        CHECK(same_result(knn_circular_l1(queries, refs, k, threads, path.kernel), l1_e));
        CHECK(same_result(knn_cosine_dot(queries, refs, lut, k, threads, path.kernel), dot_e));
      }
    }
  }
}

TEST_CASE("TORUS_SEARCH_KERNEL and SearchKernel choose a path or refuse", "[geometry][search]") {
  CHECK(parse_search_kernel_setting(nullptr) == SearchKernel::fastest);
  CHECK(parse_search_kernel_setting("") == SearchKernel::fastest);
  CHECK(parse_search_kernel_setting("avx512") == SearchKernel::avx512);
  CHECK(parse_search_kernel_setting("avx2") == SearchKernel::avx2);
  CHECK(parse_search_kernel_setting("avx2-vnni") == SearchKernel::avx2_vnni);
  CHECK(parse_search_kernel_setting("portable") == SearchKernel::portable);
  for (const char* bad : {"AVX2", "avx", "fastest", "sse4", " avx2", "avx2_vnni"}) {
    INFO(bad);
    try {
      parse_search_kernel_setting(bad);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      CHECK(what.find("TORUS_SEARCH_KERNEL") != std::string::npos);
      CHECK(what.find("avx512, avx2-vnni, avx2, portable") != std::string::npos);
    }
  }
  CHECK(resolve_search_kernel(SearchKernel::portable) == SearchKernel::portable);
  if (avx512_search_kernels()) CHECK(resolve_search_kernel(SearchKernel::avx512) == SearchKernel::avx512);
  else CHECK_THROWS_AS(resolve_search_kernel(SearchKernel::avx512), std::runtime_error);
  if (avx2_vnni_search_kernels()) CHECK(resolve_search_kernel(SearchKernel::avx2_vnni) == SearchKernel::avx2_vnni);
  else CHECK_THROWS_AS(resolve_search_kernel(SearchKernel::avx2_vnni), std::runtime_error);
  if (avx2_search_kernels()) CHECK(resolve_search_kernel(SearchKernel::avx2) == SearchKernel::avx2);
  else CHECK_THROWS_AS(resolve_search_kernel(SearchKernel::avx2), std::runtime_error);
  // fastest: the variable's path when the suite runs under it (TORUS_SEARCH_KERNEL=avx2 ...),
  // otherwise the best this CPU has
  const SearchKernel setting = parse_search_kernel_setting(std::getenv("TORUS_SEARCH_KERNEL"));
  const SearchKernel best = avx512_search_kernels()      ? SearchKernel::avx512
                            : avx2_vnni_search_kernels() ? SearchKernel::avx2_vnni
                            : avx2_search_kernels()      ? SearchKernel::avx2
                                                         : SearchKernel::portable;
  CHECK(resolve_search_kernel(SearchKernel::fastest) == (setting == SearchKernel::fastest ? best : setting));
}

TEST_CASE("knn_hamming equals brute force exactly", "[geometry][search]") {
  for (Eigen::Index D : {16, 64, 100, 3, 2100}) {  // 2100: 33 words, more than the 31 whose byte counts AVX2 adds up
    for (Eigen::Index Nr : kRefCounts) {
      std::mt19937_64 rng(static_cast<std::uint64_t>(D * 7 + Nr));
      CodeMatrix rb(Nr, D), qb(21, D);
      for (Eigen::Index i = 0; i < rb.size(); ++i) rb.data()[i] = static_cast<std::uint8_t>((rng() % 5) == 0);
      for (Eigen::Index i = 0; i < qb.size(); ++i) qb.data()[i] = static_cast<std::uint8_t>((rng() % 5) == 0);
      const BitCodeMatrix refs = pack_bits(rb), queries = pack_bits(qb);
      RowMatrix<std::int32_t> s(qb.rows(), Nr);
      for (Eigen::Index i = 0; i < qb.rows(); ++i)
        for (Eigen::Index n = 0; n < Nr; ++n) s(i, n) = static_cast<std::int32_t>((qb.row(i).array() != rb.row(n).array()).count());
      for (int k : {1, 3, static_cast<int>(Nr)}) {
        if (k > Nr || (k == Nr && Nr > 100)) continue;
        const KnnResult<std::int32_t> expected = brute_force_top_k(s, k, Nearer::smaller);
        for (const Path& path : kernel_paths()) {
          for (int threads : {1, 2}) {
            INFO("D " << D << " N " << Nr << " k " << k << " threads " << threads << " path " << path.name);
            CHECK(same_result(knn_hamming(queries, refs, k, threads, path.kernel), expected));
          }
        }
      }
    }
  }
}

TEST_CASE("knn_inner_product equals brute force on exactly representable data", "[geometry][search]") {
  // Small integers: every dot product is exact in float whatever the summation order, so the GEMM
  // scores equal the naive ones and the ties are real ties.
  for (Eigen::Index D : {16, 5}) {
    for (Eigen::Index Nr : kRefCounts) {
      std::mt19937_64 rng(static_cast<std::uint64_t>(D + Nr));
      RowMatrix<float> refs(Nr, D), queries(70, D);  // 70 queries: three 32-query blocks
      for (Eigen::Index i = 0; i < refs.size(); ++i) refs.data()[i] = static_cast<float>(static_cast<int>(rng() % 5) - 2);
      for (Eigen::Index i = 0; i < queries.size(); ++i) queries.data()[i] = static_cast<float>(static_cast<int>(rng() % 5) - 2);
      const RowMatrix<float> s = (queries.cast<double>() * refs.cast<double>().transpose()).cast<float>();
      for (int k : {1, 4}) {
        if (k > Nr) continue;
        const KnnResult<float> expected = brute_force_top_k(s, k, Nearer::larger);
        for (int threads : {1, 2}) {
          INFO("D " << D << " N " << Nr << " k " << k << " threads " << threads);
          CHECK(same_result(knn_inner_product(queries, refs, k, threads), expected));
        }
      }
    }
  }
  // on general float data the results do not depend on the thread count
  const RowMatrix<float> r = gaussian_matrix(3000, 16, 1).cast<float>(), q = gaussian_matrix(100, 16, 2).cast<float>();
  CHECK(same_result(knn_inner_product(q, r, 5, 1), knn_inner_product(q, r, 5, 2)));
}

TEST_CASE("knn_pq and knn_circular_pq equal brute force over the distance tables", "[geometry][search]") {
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  RowMatrix<float> u(1500, 8);
  for (Eigen::Index i = 0; i < u.size(); ++i) u.data()[i] = static_cast<float>(uni(rng));
  const RowMatrix<float> x = eight_bit_space(encode_angles<float>(u));
  const RowMatrix<float> uq = u.topRows(30).array() + 0.01f, xq = x.topRows(30).array() + 1.0f;
  for (int M : {2, 4}) {
    for (int bits : {4, 8}) {
      const ProductQuantizer pq = ProductQuantizer::train(x, M, bits);
      const CircularProductQuantizer cpq = CircularProductQuantizer::train(u, M, bits);
      const CodeMatrix codes = pq.encode(x), ccodes = cpq.encode(u);
      RowMatrix<float> s(30, x.rows()), cs(30, x.rows());
      for (Eigen::Index i = 0; i < 30; ++i) {
        const RowMatrix<float> t = pq.distance_table(xq.row(i).data()), ct = cpq.distance_table(uq.row(i).data());
        for (Eigen::Index n = 0; n < x.rows(); ++n) {
          float a = 0, b = 0;  // in sub-quantiser order, as the search sums
          for (int m = 0; m < M; ++m) {
            a += t(m, codes(n, m));
            b += ct(m, ccodes(n, m));
          }
          s(i, n) = a;
          cs(i, n) = b;
        }
      }
      for (int k : {1, 6}) {
        const KnnResult<float> expected = brute_force_top_k(s, k, Nearer::smaller);
        const KnnResult<float> cexpected = brute_force_top_k(cs, k, Nearer::smaller);
        for (int threads : {1, 2}) {
          INFO("M " << M << " bits " << bits << " k " << k << " threads " << threads);
          CHECK(same_result(knn_pq(pq, xq, codes, k, threads), expected));
          CHECK(same_result(knn_circular_pq(cpq, uq, ccodes, k, threads), cexpected));
        }
        // many references share a PQ cell, so ties are common
        if (M == 2 && bits == 4 && k == 6) CHECK(tied_neighbours(expected) > 30);
      }
    }
  }
}

TEST_CASE("search argument errors", "[geometry][search]") {
  const CodeMatrix r = random_codes(10, 8, 1), q = random_codes(2, 8, 2);
  CHECK_THROWS_AS(knn_cosine_lut(q, r, CosineLut(), 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(knn_cosine_lut(q, r, CosineLut(), 11, 1), std::invalid_argument);
  CHECK_THROWS_AS(knn_cosine_lut(q, r, CosineLut(), 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(knn_circular_l1(random_codes(2, 7, 3), r, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(knn_hamming(BitCodeMatrix::Zero(2, 1), BitCodeMatrix::Zero(3, 2), 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(knn_inner_product(RowMatrix<float>::Zero(2, 4), RowMatrix<float>::Zero(3, 5), 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(knn_cosine_lut(random_codes(1, 70000, 3), random_codes(1, 70000, 4), CosineLut(32767), 1, 1),
                  std::invalid_argument);  // 70000 * 32767 overflows the int32 score
  CHECK_THROWS_AS(knn_cosine_dot(q, r, CosineLut(128), 1, 1), std::invalid_argument);  // no int8 table
  CHECK_THROWS_AS(knn_cosine_dot(random_codes(1, 40000, 3), random_codes(1, 40000, 4), CosineLut(), 1, 1),
                  std::invalid_argument);  // 40000 * 2 * 255 * 127 overflows the biased int32 lanes
  CHECK_THROWS_AS(knn_cosine_dot(q, r, CosineLut(), 11, 1), std::invalid_argument);
  RowMatrix<float> nan_refs = RowMatrix<float>::Zero(3, 4);
  nan_refs(1, 2) = std::nanf("");
  CHECK_THROWS_AS(knn_inner_product(RowMatrix<float>::Zero(2, 4), nan_refs, 1, 1), std::invalid_argument);
  // an empty query set is fine
  CHECK(knn_cosine_lut(CodeMatrix(0, 8), r, CosineLut(), 3, 2).indices.rows() == 0);
  CHECK(knn_cosine_dot(CodeMatrix(0, 8), r, CosineLut(), 3, 2).indices.rows() == 0);
}
