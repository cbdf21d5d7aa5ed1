// One data-parallel step equals one process on the whole batch: FmnistConvNet (float) and
// ResNet-20 with sync batch norm (double), SupCon + KoLeo over a global batch of 96 images in two
// views, each rank taking its contiguous slice. Same loss, same averaged parameter gradients (and
// batch-norm statistics). Negative controls: an all-gather whose backward keeps the local slice
// without the sum, and per-rank batch norm, must both be caught on more than one rank.
#include "dist_test_util.hpp"

#include "nn/contrastive_features.hpp"
#include "nn/dist/global_batch.hpp"
#include "nn/dist/gradient_average.hpp"
#include "nn/koleo.hpp"
#include "nn/models.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <random>

using namespace torus;
using torus::testing::relative_error;
using torus::testing::world;

namespace {
constexpr int64_t kBatch = 96;  // images in the global batch
constexpr int kViews = 2;
constexpr double kKoleoWeight = 0.1;

// ---- the negative control: an all-gather whose backward forgets the other ranks' copies ----
const OpName kGatherWithoutSum("all_gather_without_sum", "dist negative control");
struct GatherWithoutSumState {
  int64_t offset, rows, inner;
};

template <typename T>
Var<T> all_gather_without_sum(const dist::Communicator& comm, const Var<T>& x) {
  const int64_t inner = x.shape()[1];
  const std::vector<int64_t> rows = comm.allgather_value(x.shape()[0]);
  std::vector<int64_t> counts;
  int64_t total = 0, offset = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (r == comm.rank()) offset = total;
    counts.push_back(rows[size_t(r)] * inner);
    total += rows[size_t(r)];
  }
  Recording<T> rec = x.tape().record(kGatherWithoutSum, {x});
  rec.set_state(GatherWithoutSumState{offset, x.shape()[0], inner});
  rec.value().resize(Shape{total, inner});
  comm.allgatherv(std::span<const T>(x.value().data(), size_t(x.value().numel())), std::span<const int64_t>(counts),
                  std::span<T>(rec.value().data(), size_t(rec.value().numel())));
  return rec.backward([](Backward<T>& g) {
    const auto st = op_state<GatherWithoutSumState>(g);  // the mistake: no sum over the ranks
    for (int64_t i = 0; i < st.rows * st.inner; ++i) g.dx(0)[i] += g.dout()[st.offset * st.inner + i];
  });
}

// ---- the step, three ways ----
template <typename T>
using LossFn = std::function<Var<T>(const Var<T>& features, const std::vector<int>& labels, double scale)>;

template <typename T>
Var<T> single_process_loss(const Var<T>& f, const std::vector<int>& labels, double scale) {
  return nn::supcon_loss(f, labels, kViews, scale).loss + nn::koleo_loss(f, kViews) * kKoleoWeight;  // as train_step
}

template <typename T>
Var<T> global_loss(const Var<T>& f, const std::vector<int>& labels, double scale) {
  return dist::global_supcon_koleo(world(), f, labels, kViews, scale, {}, kKoleoWeight).loss;
}

template <typename T>
Var<T> global_loss_without_sum(const Var<T>& f, const std::vector<int>& labels, double scale) {
  const dist::Communicator& comm = world();
  const std::vector<int64_t> n = comm.allgather_value(int64_t(labels.size()));
  std::vector<int64_t> first(n.size());
  int64_t B = 0;
  for (size_t r = 0; r < n.size(); ++r) first[r] = B, B += n[r];
  std::vector<int> all_labels(static_cast<size_t>(B));
  comm.allgatherv(std::span<const int>(labels), std::span<const int64_t>(n), std::span<int>(all_labels));
  std::vector<int64_t> view_major;
  for (int64_t v = 0; v < kViews; ++v)
    for (size_t r = 0; r < n.size(); ++r)
      for (int64_t i = 0; i < n[r]; ++i) view_major.push_back(first[r] * kViews + v * n[r] + i);
  const Var<T> global = index_select(all_gather_without_sum(comm, f), view_major);
  return single_process_loss(global, all_labels, scale);
}

template <typename T>
struct StepResult {
  double loss = 0;
  std::vector<Tensor<T>> grads;    // in parameters() order
  std::vector<Tensor<T>> buffers;  // batch-norm statistics after the step
};

// images: (views * n, C, H, W) view-major; labels: n.
template <typename T>
StepResult<T> step(nn::Module<T>& net, const Tensor<T>& images, const std::vector<int>& labels, const LossFn<T>& loss_fn,
                   dist::GradientAverager<T>* averager) {
  const nn::NamedParameters<T> params = net.parameters();
  for (const auto& [name, p] : params) p->zero_grad();
  Tape<T> tape;
  const auto cf = nn::contrastive_features(net.forward(tape.constant(images)), nn::HeadMode::torusN);
  const Var<T> loss = loss_fn(cf.f, labels, cf.scale);
  tape.backward(loss);
  if (averager) averager->average();
  StepResult<T> out;
  out.loss = double(loss.value().item());
  for (const auto& [name, p] : params) out.grads.push_back(p->grad);
  for (const auto& [name, b] : net.buffers()) out.buffers.push_back(*b);
  return out;
}

// Rank 0's result on every rank (only rank 0 computes the single-process reference).
template <typename T>
void broadcast_result(StepResult<T>& r, const StepResult<T>& shapes_from) {
  const dist::Communicator& comm = world();
  if (comm.rank() != 0) {
    r.grads = shapes_from.grads;
    r.buffers = shapes_from.buffers;
  }
  comm.broadcast(std::span<double>(&r.loss, 1));
  for (auto* list : {&r.grads, &r.buffers})
    for (Tensor<T>& t : *list) comm.broadcast(std::span<T>(t.data(), size_t(t.numel())));
}

template <typename T>
Tensor<T> random_images(int64_t C, int64_t H, int64_t W, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  Tensor<T> x(Shape{kViews * kBatch, C, H, W});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = T(n(rng));
  return x;
}

std::vector<int> random_labels(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> labels(static_cast<size_t>(kBatch));
  for (int& l : labels) l = int(rng() % 10);
  return labels;
}

// This rank's images in both views, view-major, and their labels.
template <typename T>
std::pair<Tensor<T>, std::vector<int>> rank_batch(const Tensor<T>& images, const std::vector<int>& labels, dist::RankSlice s) {
  const Shape& g = images.shape();
  const int64_t per_image = g[1] * g[2] * g[3];
  Tensor<T> mine(Shape{kViews * s.count, g[1], g[2], g[3]});
  for (int64_t v = 0; v < kViews; ++v)
    std::copy(images.data() + (v * kBatch + s.first) * per_image, images.data() + (v * kBatch + s.first + s.count) * per_image,
              mine.data() + v * s.count * per_image);
  return {std::move(mine), std::vector<int>(labels.begin() + s.first, labels.begin() + s.first + s.count)};
}

// The largest relative error over the loss and every gradient and buffer.
template <typename T>
double worst_error(const StepResult<T>& a, const StepResult<T>& reference, const nn::NamedParameters<T>& params) {
  double worst = std::abs(a.loss - reference.loss) / std::max(std::abs(reference.loss), 1e-30);
  for (size_t i = 0; i < a.grads.size(); ++i) {
    const double e = relative_error(a.grads[i], reference.grads[i]);
    if (e > worst) UNSCOPED_INFO("gradient of " << params[i].first << ": relative error " << e);
    worst = std::max(worst, e);
  }
  for (size_t i = 0; i < a.buffers.size(); ++i) worst = std::max(worst, relative_error(a.buffers[i], reference.buffers[i]));
  return worst;
}
}  // namespace

TEST_CASE("data-parallel step of FmnistConvNet (float) equals one process on the whole batch", "[dist]") {
  const dist::Communicator& comm = world();
  const auto make_net = [] {
    std::mt19937_64 rng(7);
    return nn::FmnistConvNet<float>({nn::HeadMode::torusN, 0, 16, 0, {}}, rng);
  };
  const Tensor<float> images = random_images<float>(1, 28, 28, 11);
  const std::vector<int> labels = random_labels(12);
  const dist::RankSlice s = dist::rank_slice(kBatch, comm.rank(), comm.size());
  const auto [mine, my_labels] = rank_batch(images, labels, s);

  StepResult<float> reference;
  auto reference_net = make_net();
  if (comm.rank() == 0) reference = step<float>(reference_net, images, labels, single_process_loss<float>, nullptr);

  auto net = make_net();
  // small buckets, so the gradients of this 0.4 M-parameter net go in several
  dist::GradientAverager<float> averager(comm, net.parameters(), 256 << 10);
  const auto step_start = std::chrono::steady_clock::now();
  const StepResult<float> distributed = step<float>(net, mine, my_labels, global_loss<float>, &averager);
  const double step_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - step_start).count();
  broadcast_result(reference, distributed);
  const nn::NamedParameters<float> params = net.parameters();
  CHECK(averager.buckets() > 1);
  CHECK(worst_error(distributed, reference, params) < 1e-5);
  // the replicas stay identical only if every rank gets the same bits from the averaging
  for (const Tensor<float>& g : distributed.grads)
    CHECK_NOTHROW(dist::require_same_on_every_rank(
        comm, "averaged gradient", std::string_view(reinterpret_cast<const char*>(g.data()), size_t(g.numel()) * sizeof(float))));

  auto wrong_net = make_net();
  dist::GradientAverager<float> wrong_averager(comm, wrong_net.parameters());
  const StepResult<float> without_sum = step<float>(wrong_net, mine, my_labels, global_loss_without_sum<float>, &wrong_averager);
  if (comm.size() == 1) {
    CHECK(worst_error(without_sum, reference, params) < 1e-5);  // one rank: nothing to sum
  } else {
    // the loss is right, the gradients are not: the test above would catch the missing sum
    CHECK(std::abs(without_sum.loss - reference.loss) < 1e-5 * std::abs(reference.loss));
    CHECK(worst_error(without_sum, reference, params) > 0.1);
  }

  // What one allreduce of this net's gradients costs, in the default 25 MB buckets.
  dist::GradientAverager<float> timed(comm, net.parameters());
  comm.barrier();
  const auto start = std::chrono::steady_clock::now();
  const int calls = 20;
  for (int i = 0; i < calls; ++i) timed.average();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / calls;
  if (comm.rank() == 0)
    std::fprintf(stderr,
                 "FmnistConvNet gradients: %lld floats (%.2f MB) in %d bucket(s), averaged over %d ranks in %.3f ms; "
                 "the whole step (%lld images x %d views on this rank) took %.1f ms\n",
                 (long long)timed.elements(), timed.elements() * 4.0 / 1e6, timed.buckets(), comm.size(), ms,
                 (long long)s.count, kViews, step_ms);
}

TEST_CASE("data-parallel step of ResNet-20 with sync batch norm (double) equals one process on the whole batch", "[dist]") {
  const dist::Communicator& comm = world();
  const auto make_net = [] {
    std::mt19937_64 rng(5);
    return nn::make_resnet20<double>(3, 4, nn::OutputSpec::embedding(nn::HeadMode::torusN, 8), rng);
  };
  const Tensor<double> images = random_images<double>(3, 32, 32, 21);
  const std::vector<int> labels = random_labels(22);
  const dist::RankSlice s = dist::rank_slice(kBatch, comm.rank(), comm.size());
  const auto [mine, my_labels] = rank_batch(images, labels, s);

  StepResult<double> reference;
  auto reference_net = make_net();
  if (comm.rank() == 0) reference = step<double>(*reference_net, images, labels, single_process_loss<double>, nullptr);

  auto net = make_net();
  net->set_batch_norm_sync(&comm);
  dist::GradientAverager<double> averager(comm, net->parameters());
  const StepResult<double> synced = step<double>(*net, mine, my_labels, global_loss<double>, &averager);
  broadcast_result(reference, synced);
  const nn::NamedParameters<double> params = net->parameters();
  CHECK(worst_error(synced, reference, params) < 1e-10);

  // per-rank statistics (the default) are a different model of the batch on more than one rank
  auto local_net = make_net();
  dist::GradientAverager<double> local_averager(comm, local_net->parameters());
  const StepResult<double> per_rank = step<double>(*local_net, mine, my_labels, global_loss<double>, &local_averager);
  if (comm.size() == 1) CHECK(worst_error(per_rank, reference, params) < 1e-10);
  else CHECK(worst_error(per_rank, reference, params) > 1e-6);
}
