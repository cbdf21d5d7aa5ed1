// precision@1: hand cases, method.md 15's invariance oracles for the evaluated spaces, and the one
// search every precision@1 goes through.
#include "test_util.hpp"

#include "geometry/code_search.hpp"
#include "nn/clifford_torus.hpp"
#include "nn/flat_torus.hpp"
#include "nn/head_mode.hpp"
#include "nn/normalize.hpp"
#include "train/eval/precision.hpp"

#include <Eigen/QR>

using namespace torus;
using eval::RowMatrix;

namespace {
RowMatrix to_rows(const Tensor<float>& t) { return t.matrix(t.shape()[0], t.shape()[1]); }

// Clusters of noisy points around one random centre per class: labels recoverable but not trivially.
// The centres come from `seed`, the noise from `seed` and `noise_seed`.
void clustered(int n, int dims, int classes, uint64_t seed, uint64_t noise_seed, double noise, Tensor<float>& x,
               std::vector<int>& labels) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g(0.0, noise);
  std::vector<double> centres(classes * dims);
  for (double& c : centres) c = u(rng);
  rng.seed(seed * 1000 + noise_seed);
  x = Tensor<float>(Shape{n, dims});
  labels.resize(n);
  for (int i = 0; i < n; ++i) {
    labels[i] = i % classes;
    for (int d = 0; d < dims; ++d) x[i * dims + d] = float(centres[labels[i] * dims + d] + g(rng));
  }
}

// The evaluated space of a head output (method.md 3.4): c(h mod 1) for torusC, z for the sphere.
RowMatrix evaluated(const Tensor<float>& h, nn::HeadMode mode) {
  Tape<float> tape;
  Var<float> z = tape.constant(h);
  if (mode == nn::HeadMode::torusC) return to_rows(nn::clifford_project(nn::wrap01(z)).value());
  return to_rows(nn::sphere_normalize(z).value());
}
}  // namespace

TEST_CASE("precision@1 on a hand case", "[eval]") {
  RowMatrix refs(3, 2), queries(2, 2);
  refs << 1, 0, 0, 1, -1, 0;
  queries << 0.9, 0.1, -0.2, -0.9;
  CHECK(eval::nearest_by_inner_product(queries, refs) == std::vector<int64_t>{0, 2});
  CHECK(eval::precision_at_1(queries, {7, 5}, refs, {7, 5, 9}) == 0.5);
  CHECK_THROWS_AS(eval::precision_at_1(queries, {7}, refs, {7, 5, 9}), std::invalid_argument);
}

TEST_CASE("torusC precision@1 is unchanged by integer shifts and by a common shift (_tra)", "[eval][oracle]") {
  Tensor<float> ref, query;
  std::vector<int> ref_labels, query_labels;
  clustered(600, 6, 5, 1, 1, 0.15, ref, ref_labels);
  clustered(200, 6, 5, 1, 2, 0.15, query, query_labels);  // same centres, fresh noise
  const double p0 = eval::precision_at_1(evaluated(query, nn::HeadMode::torusC), query_labels,
                                         evaluated(ref, nn::HeadMode::torusC), ref_labels);
  CHECK(p0 > 0.3);  // the task is learnable: far above chance (0.2)
  CHECK(p0 < 1.0);  // and not trivial, so a broken invariance would show
  Tensor<float> ref_int = ref, query_int = query, ref_tra = ref, query_tra = query;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    ref_int[i] += float((i * 5) % 7) - 3.0f;
    ref_tra[i] += 0.5f;
  }
  for (int64_t i = 0; i < query.numel(); ++i) {
    query_int[i] -= float((i * 3) % 4);
    query_tra[i] += 0.5f;
  }
  CHECK(eval::precision_at_1(evaluated(query_int, nn::HeadMode::torusC), query_labels,
                             evaluated(ref_int, nn::HeadMode::torusC), ref_labels) == p0);
  CHECK(eval::precision_at_1(evaluated(query_tra, nn::HeadMode::torusC), query_labels,
                             evaluated(ref_tra, nn::HeadMode::torusC), ref_labels) == Approx(p0).margin(0.006));
}

TEST_CASE("sphere precision@1 is unchanged by a common rotation (_rot)", "[eval][oracle]") {
  Tensor<float> ref, query;
  std::vector<int> ref_labels, query_labels;
  clustered(600, 6, 5, 2, 1, 0.15, ref, ref_labels);
  clustered(200, 6, 5, 2, 2, 0.15, query, query_labels);
  for (int64_t i = 0; i < ref.numel(); ++i) ref[i] -= 0.5f;  // centre so directions differ
  for (int64_t i = 0; i < query.numel(); ++i) query[i] -= 0.5f;
  Eigen::MatrixXf g(6, 6);
  for (int i = 0; i < 36; ++i) g(i / 6, i % 6) = std::sin(float(i + 1) * 1.7f);  // any full-rank matrix
  const Eigen::MatrixXf R = Eigen::HouseholderQR<Eigen::MatrixXf>(g).householderQ();
  Tensor<float> ref_rot = ref, query_rot = query;
  ref_rot.matrix(600, 6) = ref.matrix(600, 6) * R;
  query_rot.matrix(200, 6) = query.matrix(200, 6) * R;
  const double p0 = eval::precision_at_1(evaluated(query, nn::HeadMode::sphere), query_labels,
                                         evaluated(ref, nn::HeadMode::sphere), ref_labels);
  CHECK(p0 > 0.3);
  CHECK(p0 < 1.0);
  CHECK(eval::precision_at_1(evaluated(query_rot, nn::HeadMode::sphere), query_labels,
                             evaluated(ref_rot, nn::HeadMode::sphere), ref_labels) == Approx(p0).margin(0.006));
}

TEST_CASE("precision@1 is geometry::knn_inner_product's nearest neighbour, the search torus-quant-eval times",
          "[eval][single-path]") {
  // Small integers: every inner product is exact in float, so ties are real ties (duplicated
  // references) and the brute-force reference below is exact too.
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> v(-3, 3);
  RowMatrix refs(300, 5), queries(70, 5);
  for (Eigen::Index i = 0; i < refs.size(); ++i) refs.data()[i] = float(v(rng));
  for (Eigen::Index i = 0; i < queries.size(); ++i) queries.data()[i] = float(v(rng));
  refs.middleRows(150, 150) = refs.topRows(150);  // every reference twice: the lower index must win
  std::vector<int> ref_labels(300), query_labels(70);
  for (int i = 0; i < 300; ++i) ref_labels[size_t(i)] = (i * 7) % 4;
  for (int i = 0; i < 70; ++i) query_labels[size_t(i)] = i % 4;
  std::vector<int64_t> brute(70);
  for (Eigen::Index q = 0; q < 70; ++q) {
    double best = -1e30;
    for (Eigen::Index r = 0; r < 300; ++r) {
      const double s = queries.row(q).cast<double>().dot(refs.row(r).cast<double>());
      if (s > best) best = s, brute[size_t(q)] = r;  // strict: the first maximum stays
    }
  }
  int64_t hits = 0;
  for (size_t q = 0; q < 70; ++q) hits += ref_labels[size_t(brute[q])] == query_labels[q];
  for (int threads : {1, 2}) {
    const auto knn = geometry::knn_inner_product(queries, refs, 1, threads);
    CHECK(eval::nearest_by_inner_product(queries, refs, threads) == brute);
    CHECK(std::vector<int64_t>(knn.indices.data(), knn.indices.data() + 70) == brute);
    CHECK(eval::label_match_rate(knn.indices, query_labels, ref_labels) == double(hits) / 70.0);
    CHECK(eval::precision_at_1(queries, query_labels, refs, ref_labels, threads) == double(hits) / 70.0);
  }
}
