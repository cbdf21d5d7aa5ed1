#include "geometry/code_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

namespace torus::geometry {

namespace {
// Sorting row indices by memcmp groups equal rows without copying them into keys (60 000 rows of
// 128 floats would be 30 MB of strings) and gives the same order on every run. Rows are
// contiguous because the matrices are row-major; the stride between rows may exceed the width.
template <typename S>
std::vector<std::int64_t> count_equal_rows(const Eigen::Ref<const RowMatrix<S>>& x) {
  const std::size_t bytes = static_cast<std::size_t>(x.cols()) * sizeof(S);
  // Zero-width rows are all equal; and memcmp must not see the null data() of an empty matrix.
  if (bytes == 0) return x.rows() > 0 ? std::vector<std::int64_t>{x.rows()} : std::vector<std::int64_t>{};
  auto row = [&](Eigen::Index i) { return static_cast<const void*>(x.data() + i * x.outerStride()); };
  std::vector<Eigen::Index> order(static_cast<std::size_t>(x.rows()));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::sort(order.begin(), order.end(),
            [&](Eigen::Index a, Eigen::Index b) { return std::memcmp(row(a), row(b), bytes) < 0; });

  std::vector<std::int64_t> counts;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || std::memcmp(row(order[i - 1]), row(order[i]), bytes) != 0) counts.push_back(0);
    ++counts.back();
  }
  return counts;
}

// M = min(N, 2^total_bits), without forming 2^total_bits when it cannot fit: an int64 N is below
// 2^63, so from 63 bits on the minimum is N whatever the power is.
std::int64_t possible_values(std::int64_t N, int total_bits) {
  if (total_bits == 0 || total_bits >= 63) return N;
  return std::min(N, std::int64_t{1} << total_bits);
}
}  // namespace

template <typename T>
std::vector<std::int64_t> distinct_row_counts(const Eigen::Ref<const RowMatrix<T>>& x) {
  return count_equal_rows<T>(x);
}

std::vector<std::int64_t> distinct_row_counts(const Eigen::Ref<const CodeMatrix>& q) {
  return count_equal_rows<std::uint8_t>(q);
}

template <typename T>
std::int64_t count_distinct_rows(const Eigen::Ref<const RowMatrix<T>>& x) {
  return static_cast<std::int64_t>(distinct_row_counts<T>(x).size());
}

std::int64_t count_distinct_rows(const Eigen::Ref<const CodeMatrix>& q) {
  return static_cast<std::int64_t>(distinct_row_counts(q).size());
}

double shannon_entropy_nats(const std::vector<std::int64_t>& counts, std::int64_t N, int total_bits) {
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument(std::string("shannon_entropy_nats: ") + why + " (" + std::to_string(counts.size()) +
                                " distinct values, N = " + std::to_string(N) +
                                ", total_bits = " + std::to_string(total_bits) + ")");
  };
  if (N < 1) fail("need at least one row");
  if (total_bits < 0) fail("total_bits must be >= 0");
  std::int64_t sum = 0;
  for (const std::int64_t c : counts) {
    if (c < 0) fail("negative count");
    sum += c;
  }
  if (sum != N) fail(std::string("counts sum to ") + std::to_string(sum) + ", not N");
  const std::int64_t M = possible_values(N, total_bits);
  if (static_cast<std::int64_t>(counts.size()) > M) fail(std::string("more distinct values than the M = ") + std::to_string(M) + " possible");

  // The reference pads the histogram to M entries before scipy.stats.entropy; kept for parity.
  // The pseudo-counts add a little entropy (about 2.6e-5 nats for 60 000 identical rows).
  constexpr double kPseudoCount = 1e-6;
  const double missing = static_cast<double>(M - static_cast<std::int64_t>(counts.size()));
  const double total = static_cast<double>(N) + missing * kPseudoCount;
  double h = 0;
  for (const std::int64_t c : counts) {
    if (c == 0) continue;  // 0 ln 0 = 0
    const double p = static_cast<double>(c) / total;
    h -= p * std::log(p);
  }
  const double p_missing = kPseudoCount / total;
  h -= missing * p_missing * std::log(p_missing);
  return h;
}

template <typename T>
double row_entropy_nats(const Eigen::Ref<const RowMatrix<T>>& x, int total_bits) {
  return shannon_entropy_nats(distinct_row_counts<T>(x), x.rows(), total_bits);
}

double row_entropy_nats(const Eigen::Ref<const CodeMatrix>& q, int total_bits) {
  return shannon_entropy_nats(distinct_row_counts(q), q.rows(), total_bits);
}

template std::vector<std::int64_t> distinct_row_counts<float>(const Eigen::Ref<const RowMatrix<float>>&);
template std::vector<std::int64_t> distinct_row_counts<double>(const Eigen::Ref<const RowMatrix<double>>&);
template std::int64_t count_distinct_rows<float>(const Eigen::Ref<const RowMatrix<float>>&);
template std::int64_t count_distinct_rows<double>(const Eigen::Ref<const RowMatrix<double>>&);
template double row_entropy_nats<float>(const Eigen::Ref<const RowMatrix<float>>&, int);
template double row_entropy_nats<double>(const Eigen::Ref<const RowMatrix<double>>&, int);

}  // namespace torus::geometry
