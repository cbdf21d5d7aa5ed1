// The differentiable all-gather: its value, its backward against central differences of the sum of
// every rank's (different) loss over uneven row counts, and the global batch's view-major order.
#include "dist_test_util.hpp"

#include "nn/dist/global_batch.hpp"

#include "autodiff/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace torus;
using torus::testing::world;

namespace {
// Rank q's own loss over the gathered rows: L_q = sum(w_q * tanh(gathered)), w_q drawn from q, so
// the copies differ and the summed backward is tested term by term, not only up to a factor.
double rank_loss(Tape<double>& tape, const Var<double>& gathered, int rank, Var<double>* out) {
  std::mt19937_64 rng(1000 + uint64_t(rank));
  std::uniform_real_distribution<double> u(-1, 1);
  Tensor<double> w(gathered.shape());
  for (int64_t i = 0; i < w.numel(); ++i) w[i] = u(rng);
  const Var<double> loss = sum(tanh(gathered) * tape.constant(std::move(w)));
  if (out) *out = loss;
  return loss.value().item();
}

Tensor<double> rank_rows(int64_t first, int64_t count, int64_t F) {
  Tensor<double> x(Shape{count, F});
  for (int64_t i = 0; i < count * F; ++i) x[i] = std::sin(0.7 * double(first * F + i) + 0.3);
  return x;
}
}  // namespace

TEST_CASE("all_gather_rows: rows of every rank in rank order, 10 rows over the ranks", "[dist]") {
  const dist::Communicator& comm = world();
  const auto s = dist::rank_slice(10, comm.rank(), comm.size());
  Tape<double> tape;
  const Var<double> g = dist::all_gather_rows(comm, tape.variable(rank_rows(s.first, s.count, 2)));
  CHECK(g.shape() == Shape{10, 2});
  const Tensor<double> expected = rank_rows(0, 10, 2);
  for (int64_t i = 0; i < 20; ++i) CHECK(g.value()[i] == expected[i]);
}

TEST_CASE("all_gather_rows backward: the gradient of the sum of every rank's loss, by central differences", "[dist]") {
  // J = sum_q L_q(gather(x_0 .. x_{R-1})); rank r's analytic gradient is its own backward of L_r
  // (which sums every rank's upstream gradient); the numeric one perturbs one element of one
  // rank's rows at a time, every rank evaluating J together.
  const dist::Communicator& comm = world();
  const int64_t F = 3;
  const auto s = dist::rank_slice(10, comm.rank(), comm.size());  // 4, 3, 3 on three ranks
  const Tensor<double> x = rank_rows(s.first, s.count, F);
  Tape<double> tape;
  const Var<double> xv = tape.variable(x);
  Var<double> loss;
  rank_loss(tape, dist::all_gather_rows(comm, xv), comm.rank(), &loss);
  tape.backward(loss);
  const Tensor<double> analytic = xv.grad();

  const auto objective = [&](const Tensor<double>& mine) {
    Tape<double> t;
    double J = rank_loss(t, dist::all_gather_rows(comm, t.constant(mine)), comm.rank(), nullptr);
    comm.allreduce_sum(std::span<double>(&J, 1));
    return J;
  };
  const std::vector<int64_t> rows = comm.allgather_value(s.count);
  const double h = 1e-6;
  double max_error = 0;
  for (int r = 0; r < comm.size(); ++r)
    for (int64_t k = 0; k < rows[size_t(r)] * F; ++k) {
      Tensor<double> plus = x, minus = x;
      if (r == comm.rank()) plus[k] += h, minus[k] -= h;
      const double numeric = (objective(plus) - objective(minus)) / (2 * h);
      if (r == comm.rank()) max_error = std::max(max_error, std::abs(numeric - analytic[k]));
    }
  INFO("largest |analytic - numeric| on rank " << comm.rank() << ": " << max_error);
  CHECK(max_error < 1e-7);
}

TEST_CASE("all_gather_rows on one rank is the identity, gradient checked", "[dist]") {
  const dist::SingleProcess one;
  const GradCheckResult r = check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return tanh(dist::all_gather_rows(one, in[0])); },
      {rank_rows(0, 4, 3)});
  INFO(r.report);
  CHECK(r.ok);
}

TEST_CASE("gather_global_batch puts each rank's views back in the single-process view-major order", "[dist]") {
  const dist::Communicator& comm = world();
  const int64_t B = 10, views = 2;
  const auto s = dist::rank_slice(B, comm.rank(), comm.size());
  // value of a row: 100 v + image index in the global batch
  Tensor<double> rows(Shape{views * s.count, 1});
  std::vector<int> labels;
  for (int64_t v = 0; v < views; ++v)
    for (int64_t i = 0; i < s.count; ++i) rows[v * s.count + i] = double(100 * v + s.first + i);
  for (int64_t i = 0; i < s.count; ++i) labels.push_back(int(s.first + i) % 4);
  Tape<double> tape;
  const dist::GlobalBatch<double> g = dist::gather_global_batch(comm, tape.variable(rows), labels, int(views));
  REQUIRE(g.features.shape() == Shape{views * B, 1});
  for (int64_t v = 0; v < views; ++v)
    for (int64_t i = 0; i < B; ++i) CHECK(g.features.value()[v * B + i] == double(100 * v + i));
  REQUIRE(g.labels.size() == size_t(B));
  for (int64_t i = 0; i < B; ++i) CHECK(g.labels[size_t(i)] == int(i % 4));
  CHECK(g.offset == s.first);
}
