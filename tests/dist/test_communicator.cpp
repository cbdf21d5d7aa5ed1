// The collectives on 1, 2 and 3 ranks: sums, gathers of equal and uneven counts, broadcast, and
// the configuration check that makes every rank throw together.
#include "dist_test_util.hpp"

#include <catch2/catch.hpp>

#include <numeric>

using namespace torus;
using torus::testing::world;

TEST_CASE("allreduce sums float, double and int64 in place on every rank", "[dist]") {
  const dist::Communicator& comm = world();
  const int R = comm.size(), r = comm.rank();
  std::vector<float> f = {1.0f, float(r), -0.5f * float(r)};
  std::vector<double> d = {1e-3 * r, 1.0 + r};
  std::vector<int64_t> i = {int64_t(1) << 40, r};
  comm.allreduce_sum(std::span<float>(f));
  comm.allreduce_sum(std::span<double>(d));
  comm.allreduce_sum(std::span<int64_t>(i));
  const double ranks_sum = R * (R - 1) / 2.0;  // 0 + 1 + ... + R - 1
  CHECK(f[0] == float(R));
  CHECK(f[1] == float(ranks_sum));
  CHECK(f[2] == float(-0.5 * ranks_sum));
  CHECK(d[0] == Approx(1e-3 * ranks_sum).epsilon(1e-15));
  CHECK(d[1] == R + ranks_sum);
  CHECK(i[0] == (int64_t(1) << 40) * R);
  CHECK(i[1] == int64_t(ranks_sum));
}

TEST_CASE("allgather puts every rank's values in rank order", "[dist]") {
  const dist::Communicator& comm = world();
  const std::vector<int64_t> ranks = comm.allgather_value(int64_t(comm.rank()) * 10);
  for (int r = 0; r < comm.size(); ++r) CHECK(ranks[size_t(r)] == 10 * r);
  const std::vector<double> mine = {double(comm.rank()), 0.5};
  std::vector<double> all(2 * size_t(comm.size()));
  comm.allgather(std::span<const double>(mine), std::span<double>(all));
  for (int r = 0; r < comm.size(); ++r) {
    CHECK(all[2 * size_t(r)] == r);
    CHECK(all[2 * size_t(r) + 1] == 0.5);
  }
  std::vector<double> too_short(1);
  CHECK_THROWS_WITH(comm.allgather(std::span<const double>(mine), std::span<double>(too_short)),
                    Catch::Contains("expected 2 x " + std::to_string(comm.size()) + " ranks"));
}

TEST_CASE("allgatherv gathers uneven counts: 96 and 10 rows split over the ranks", "[dist]") {
  const dist::Communicator& comm = world();
  for (const int64_t B : {int64_t(96), int64_t(10)}) {
    const auto s = dist::rank_slice(B, comm.rank(), comm.size());
    if (B == 10 && comm.size() == 3) CHECK(s.count == (comm.rank() == 0 ? 4 : 3));  // 4, 3, 3
    const int64_t F = 3;  // values per row
    std::vector<float> mine(size_t(s.count * F));
    for (int64_t i = 0; i < s.count * F; ++i) mine[size_t(i)] = float(s.first * F + i);
    const std::vector<int64_t> rows = comm.allgather_value(s.count);
    std::vector<int64_t> counts(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) counts[r] = rows[r] * F;
    std::vector<float> all(size_t(B * F), -1.0f);
    comm.allgatherv(std::span<const float>(mine), std::span<const int64_t>(counts), std::span<float>(all));
    std::vector<float> expected(size_t(B * F));
    std::iota(expected.begin(), expected.end(), 0.0f);
    CHECK(all == expected);
    std::vector<int> labels(size_t(s.count));
    std::iota(labels.begin(), labels.end(), int(s.first));
    std::vector<int> all_labels(static_cast<size_t>(B));
    comm.allgatherv(std::span<const int>(labels), std::span<const int64_t>(rows), std::span<int>(all_labels));
    for (int64_t i = 0; i < B; ++i) CHECK(all_labels[size_t(i)] == i);
  }
}

TEST_CASE("allgatherv refuses counts that do not match what this rank gives", "[dist]") {
  const dist::Communicator& comm = world();
  const std::vector<float> mine(2);
  std::vector<int64_t> counts(size_t(comm.size()), 3);
  std::vector<float> all(3 * size_t(comm.size()));
  CHECK_THROWS_WITH(comm.allgatherv(std::span<const float>(mine), std::span<const int64_t>(counts), std::span<float>(all)),
                    Catch::Contains("gives 2 elements, its count says 3"));
}

TEST_CASE("broadcast copies the root's values to every rank", "[dist]") {
  const dist::Communicator& comm = world();
  const int root = comm.size() - 1;
  std::vector<double> x = {double(comm.rank()), 2.0 * comm.rank()};
  comm.broadcast(std::span<double>(x), root);
  CHECK(x == std::vector<double>{double(root), 2.0 * root});
  std::string text = comm.rank() == 0 ? "from rank 0" : "???????????";
  comm.broadcast(std::span<char>(text.data(), text.size()));
  CHECK(text == "from rank 0");
  comm.barrier();
}

TEST_CASE("require_same_on_every_rank: equal texts pass, a differing rank makes every rank throw", "[dist]") {
  const dist::Communicator& comm = world();
  CHECK_NOTHROW(dist::require_same_on_every_rank(comm, "configuration", "lr = 0.1\n"));
  const std::string text = comm.rank() == comm.size() - 1 && comm.size() > 1 ? "lr = 0.2\n" : "lr = 0.1\n";
  if (comm.size() == 1) {
    CHECK_NOTHROW(dist::require_same_on_every_rank(comm, "configuration", text));
  } else {
    CHECK_THROWS_WITH(dist::require_same_on_every_rank(comm, "configuration", text),
                      Catch::Contains("configuration differs between ranks: rank " + std::to_string(comm.size() - 1)));
  }
}
