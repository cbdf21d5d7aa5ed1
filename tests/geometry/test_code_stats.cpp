// Distinct-row counts and the padded Shannon entropy of method.md 8: hand cases, strided views,
// exact bit comparison, all-distinct and all-identical 60 000-row sets, and the padding rule.
#include <catch2/catch.hpp>

#include "geometry/code_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

using namespace torus::geometry;

TEST_CASE("count_distinct_rows by hand, on views and on codes", "[geometry][entropy]") {
  RowMatrix<double> x(5, 3);
  x << 0.5, 0.25, 1.0,
       0.5, 0.25, 2.0,
       0.0, 0.0, 0.0,
       0.5, 0.25, 1.0,
       0.0, 0.0, 0.0;
  CHECK(count_distinct_rows<double>(x) == 3);
  std::vector<std::int64_t> counts = distinct_row_counts<double>(x);
  std::sort(counts.begin(), counts.end());  // the order follows the rows' bytes, so depends on endianness
  CHECK(counts == std::vector<std::int64_t>{1, 2, 2});
  CHECK(count_distinct_rows<double>(x.leftCols(2)) == 2);  // a strided view: rows 0, 1, 3 now agree
  CHECK(count_distinct_rows<float>(x.cast<float>()) == 3);
  CHECK(count_distinct_rows<double>(RowMatrix<double>(0, 3)) == 0);
  CHECK(count_distinct_rows<double>(RowMatrix<double>(3, 0)) == 1);  // three empty rows are one row

  RowMatrix<double> zeros(2, 1);
  zeros << 0.0, -0.0;
  CHECK(count_distinct_rows<double>(zeros) == 2);  // documented: bit patterns, not values

  CodeMatrix q(4, 2);
  q << 1, 2,
       2, 1,
       1, 2,
       255, 0;
  CHECK(count_distinct_rows(q) == 3);
  CHECK(count_distinct_rows(q.leftCols(1)) == 3);
}

TEST_CASE("entropy of all-distinct and all-identical rows", "[geometry][entropy]") {
  const int N = 60000;
  RowMatrix<double> distinct(N, 2);
  for (int n = 0; n < N; ++n) distinct.row(n) << n, 0.5;
  CHECK(count_distinct_rows<double>(distinct) == N);
  CHECK(row_entropy_nats<double>(distinct, 0) == Approx(std::log(60000.0)).margin(1e-9));  // about 11.0
  CHECK(row_entropy_nats<double>(distinct, 0) == Approx(11.0021).margin(1e-4));
  CHECK(row_entropy_nats<double>(distinct, 128) == row_entropy_nats<double>(distinct, 0));  // M = N either way

  const RowMatrix<float> identical = RowMatrix<float>::Constant(N, 4, 0.3f);
  const double h = row_entropy_nats<float>(identical, 0);
  CHECK(h >= 0.0);
  CHECK(h < 1e-4);
  CHECK(h == Approx(2.5817e-5).epsilon(1e-3));  // only the 59 999 pseudo-counts of 1e-6

  CodeMatrix all_bytes(256, 1);
  for (int j = 0; j < 256; ++j) all_bytes(j, 0) = static_cast<std::uint8_t>(j);
  CHECK(row_entropy_nats(all_bytes, 8) == Approx(std::log(256.0)).margin(1e-12));
}

TEST_CASE("entropy pads with 1e-6 pseudo-counts up to min(N, 2^total_bits) values", "[geometry][entropy]") {
  // {2, 1, 1} over N = 4 rows, 3 bits: M = min(4, 8) = 4, so one pseudo-count pads the histogram.
  // S = 4 + 1e-6; H = -(2/S ln 2/S + 2 (1/S) ln 1/S + (1e-6/S) ln 1e-6/S).
  const std::vector<std::int64_t> counts = {2, 1, 1};
  CHECK(shannon_entropy_nats(counts, 4, 3) == Approx(1.0397245613600388).margin(1e-13));
  CHECK(shannon_entropy_nats(counts, 4, 0) == Approx(1.0397245613600388).margin(1e-13));  // unquantised: M = N
  CHECK(shannon_entropy_nats(counts, 4, 64) == Approx(1.0397245613600388).margin(1e-13));  // 2^64 does not overflow
  CHECK(shannon_entropy_nats(counts, 4, 1000) == Approx(1.0397245613600388).margin(1e-13));
  // 2 bits: M = 4 again; {3, 1} with 1 bit: M = 2, nothing to pad, -(3/4 ln 3/4 + 1/4 ln 1/4)
  CHECK(shannon_entropy_nats(counts, 4, 2) == Approx(1.0397245613600388).margin(1e-13));
  CHECK(shannon_entropy_nats({3, 1}, 4, 1) == Approx(0.5623351446188083).margin(1e-14));
  const double S = 4 + 1e-6;  // {4} with 1 bit: M = 2, one pseudo-count
  CHECK(shannon_entropy_nats({4}, 4, 1) == Approx(-(4 / S) * std::log(4 / S) - (1e-6 / S) * std::log(1e-6 / S)).margin(1e-15));

  CHECK_THROWS_AS(shannon_entropy_nats(counts, 4, 1), std::invalid_argument);  // 3 distinct > M = 2
  CHECK_THROWS_AS(shannon_entropy_nats(counts, 5, 0), std::invalid_argument);  // counts sum to 4
  CHECK_THROWS_AS(shannon_entropy_nats({}, 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(shannon_entropy_nats({5, -1}, 4, 0), std::invalid_argument);
  CHECK_THROWS_AS(shannon_entropy_nats(counts, 4, -1), std::invalid_argument);
  CHECK_THROWS_WITH(shannon_entropy_nats(counts, 5, 0), Catch::Contains("N = 5"));
}
