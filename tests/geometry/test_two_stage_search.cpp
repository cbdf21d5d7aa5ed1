// The two-stage search on Matryoshka codes against a brute force that does the same thing the
// slow way: the shortlist as the brute-force top-s by prefix L1, then every shortlisted reference
// by full L1 in a stable sort. Also its two limits: a shortlist of every reference, or a prefix of
// every circle, is the one-stage search exactly.
#include <catch2/catch.hpp>

#include "geometry/code_search.hpp"
#include "geometry/two_stage_search.hpp"
#include "knn_brute_force.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <stdexcept>

using namespace torus::geometry;
using namespace torus::geometry::testing;

namespace {
// Bytes from a small alphabet around a few centres, so prefix distances tie often.
CodeMatrix random_codes(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> small(-3, 3), centre(0, 3);
  CodeMatrix c(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) c(i, j) = std::uint8_t(64 * centre(rng) + small(rng));
  return c;
}

RowMatrix<std::int32_t> l1_scores(const CodeMatrix& q, const CodeMatrix& r, Eigen::Index cols) {
  RowMatrix<std::int32_t> s(q.rows(), r.rows());
  for (Eigen::Index i = 0; i < q.rows(); ++i)
    for (Eigen::Index j = 0; j < r.rows(); ++j) {
      std::int32_t d = 0;
      for (Eigen::Index c = 0; c < cols; ++c) d += std::abs(int(std::int8_t(std::uint8_t(q(i, c) - r(j, c)))));
      s(i, j) = d;
    }
  return s;
}
}  // namespace

TEST_CASE("two-stage search: the shortlist by prefix codes, re-ranked by the full codes", "[geometry][two-stage]") {
  std::mt19937_64 rng(11);
  const CodeMatrix q = random_codes(37, 8, rng), r = random_codes(1100, 8, rng);
  const RowMatrix<std::int32_t> full = l1_scores(q, r, 8);
  for (int prefix : {1, 2, 4}) {
    for (int shortlist : {5, 40}) {
      const int k = 3;
      // The oracle: brute-force shortlist by the prefix, then a stable sort of its members (in
      // index order) by full distance.
      const KnnResult<std::int32_t> candidates = brute_force_top_k(l1_scores(q, r, prefix), shortlist, Nearer::smaller);
      KnnResult<std::int32_t> expected{RowMatrix<std::int64_t>(q.rows(), k), RowMatrix<std::int32_t>(q.rows(), k)};
      for (Eigen::Index i = 0; i < q.rows(); ++i) {
        std::vector<std::int64_t> members(candidates.indices.row(i).data(), candidates.indices.row(i).data() + shortlist);
        std::sort(members.begin(), members.end());
        std::stable_sort(members.begin(), members.end(), [&](std::int64_t a, std::int64_t b) { return full(i, a) < full(i, b); });
        for (int j = 0; j < k; ++j) expected.indices(i, j) = members[size_t(j)], expected.scores(i, j) = full(i, members[size_t(j)]);
      }
      for (int threads : {1, 2}) {
        const KnnResult<std::int32_t> got = knn_two_stage_l1(q, r, prefix, shortlist, k, threads);
        INFO("prefix " << prefix << ", shortlist " << shortlist << ", threads " << threads);
        CHECK(same_result(got, expected));
      }
    }
  }
  // The data tie: the test sees the tie rule at work.
  CHECK(tied_neighbours(brute_force_top_k(l1_scores(q, r, 2), 5, Nearer::smaller)) > 50);
}

TEST_CASE("two-stage search: its limits are the one-stage search", "[geometry][two-stage]") {
  std::mt19937_64 rng(12);
  const CodeMatrix q = random_codes(20, 6, rng), r = random_codes(300, 6, rng);
  for (int k : {1, 4}) {
    const KnnResult<std::int32_t> one_stage = knn_circular_l1(q, r, k, 1);
    CHECK(same_result(knn_two_stage_l1(q, r, 2, 300, k, 1), one_stage));  // every reference shortlisted
    CHECK(same_result(knn_two_stage_l1(q, r, 6, k, k, 1), one_stage));    // the prefix is the whole code
  }
}

TEST_CASE("two-stage search: bad arguments are refused", "[geometry][two-stage]") {
  std::mt19937_64 rng(13);
  const CodeMatrix q = random_codes(3, 4, rng), r = random_codes(10, 4, rng);
  CHECK_THROWS_AS(knn_two_stage_l1(q, r, 0, 5, 1, 1), std::invalid_argument);   // empty prefix
  CHECK_THROWS_AS(knn_two_stage_l1(q, r, 5, 5, 1, 1), std::invalid_argument);   // prefix longer than the code
  CHECK_THROWS_AS(knn_two_stage_l1(q, r, 2, 11, 1, 1), std::invalid_argument);  // shortlist beyond the references
  CHECK_THROWS_AS(knn_two_stage_l1(q, r, 2, 2, 3, 1), std::invalid_argument);   // k beyond the shortlist
  CHECK_THROWS_AS(knn_two_stage_l1(q, random_codes(10, 3, rng), 2, 5, 1, 1), std::invalid_argument);  // widths
}
