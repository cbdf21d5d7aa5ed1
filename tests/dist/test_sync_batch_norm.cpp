// Sync batch norm on uneven slices (10 images over the ranks: 4, 3, 3 on three): the output, the
// running statistics and the gradients of each rank's rows equal one process's batch norm of all
// 10. The loss is additive over images, L = sum_q sum(w_q y_q), so each rank backpropagates its own
// part and the reductions inside the backward supply the rest.
#include "dist_test_util.hpp"

#include "nn/batchnorm.hpp"

#include "autodiff/ops.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace torus;
using torus::testing::relative_error;
using torus::testing::world;

namespace {
constexpr int64_t kImages = 10, kC = 3, kS = 4;  // (10, 3, 2, 2)

// Rows [first, first + count) of a fixed (10, 3, 2, 2) tensor, from the formula f.
template <typename F>
Tensor<double> rows(int64_t first, int64_t count, F f) {
  Tensor<double> x(Shape{count, kC, 2, 2});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = f(first * kC * kS + i);
  return x;
}
double input(int64_t i) { return std::sin(0.37 * double(i)) * (1 + 0.1 * double(i % 7)); }
double weight(int64_t i) { return std::cos(0.91 * double(i) + 0.2); }

struct BnResult {
  Tensor<double> y, dx, dgamma, dbeta, running_mean, running_var;
};

BnResult run(const dist::Communicator* sync, int64_t first, int64_t count) {
  Tape<double> tape;
  Tensor<double> running_mean(Shape{kC}, 0.0), running_var(Shape{kC}, 1.0);
  Tensor<double> gamma_values(Shape{kC}), beta_values(Shape{kC});
  for (int64_t c = 0; c < kC; ++c) gamma_values[c] = 1 + 0.25 * double(c), beta_values[c] = -0.1 * double(c);
  const Var<double> x = tape.variable(rows(first, count, input));
  const Var<double> gamma = tape.variable(gamma_values), beta = tape.variable(beta_values);
  const Var<double> y = nn::batch_norm(x, gamma, beta, running_mean, running_var, true, 0.1, 1e-5, sync);
  tape.backward(sum(y * tape.constant(rows(first, count, weight))));
  return {y.value(), x.grad(), gamma.grad(), beta.grad(), running_mean, running_var};
}
}  // namespace

TEST_CASE("sync batch norm over uneven slices equals batch norm of the whole batch", "[dist]") {
  const dist::Communicator& comm = world();
  const auto s = dist::rank_slice(kImages, comm.rank(), comm.size());
  const BnResult whole = run(nullptr, 0, kImages);
  BnResult mine = run(&comm, s.first, s.count);
  // this rank's rows of the whole batch's output and input gradient
  const int64_t per_image = kC * kS;
  Tensor<double> y_rows(Shape{s.count, kC, 2, 2}), dx_rows(Shape{s.count, kC, 2, 2});
  for (int64_t i = 0; i < s.count * per_image; ++i) {
    y_rows[i] = whole.y[s.first * per_image + i];
    dx_rows[i] = whole.dx[s.first * per_image + i];
  }
  CHECK(relative_error(mine.y, y_rows) < 1e-12);
  CHECK(relative_error(mine.dx, dx_rows) < 1e-12);
  CHECK(relative_error(mine.running_mean, whole.running_mean) < 1e-12);
  CHECK(relative_error(mine.running_var, whole.running_var) < 1e-12);
  // gamma's and beta's gradients are per-rank parts: summed over the ranks they are the whole's
  comm.allreduce_sum(std::span<double>(mine.dgamma.data(), size_t(kC)));
  comm.allreduce_sum(std::span<double>(mine.dbeta.data(), size_t(kC)));
  CHECK(relative_error(mine.dgamma, whole.dgamma) < 1e-12);
  CHECK(relative_error(mine.dbeta, whole.dbeta) < 1e-12);
  // without sync, each rank normalises by its own statistics: a different output on > 1 rank
  if (comm.size() > 1) CHECK(relative_error(run(nullptr, s.first, s.count).y, y_rows) > 1e-3);
}
