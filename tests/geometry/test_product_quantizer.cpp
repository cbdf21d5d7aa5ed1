// k-means, product quantisation and circular product quantisation: recovery of known,
// well-separated clusters (every member of a cluster gets the cluster's code, reconstructions
// sit on the centres), clusters straddling the wraparound that plain PQ splits and circular PQ
// keeps whole, distance tables against direct formulas, and determinism (same seed, any thread
// count: the same codebooks bit for bit).
#include <catch2/catch.hpp>

#include "geometry/circular_pq.hpp"
#include "geometry/flat_torus.hpp"
#include "geometry/kmeans.hpp"
#include "geometry/product_quantizer.hpp"
#include "geometry/uint8_codes.hpp"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <set>
#include <vector>

using namespace torus::geometry;

namespace {

// n points around each centre (rows of centres), Gaussian noise of the given sd; labels out.
RowMatrix<float> blobs(const RowMatrix<double>& centres, int n, double sd, std::uint64_t seed, std::vector<int>& labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sd);
  RowMatrix<float> x(centres.rows() * n, centres.cols());
  labels.clear();
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const Eigen::Index c = i % centres.rows();  // interleaved, so no cluster is a contiguous run
    for (Eigen::Index j = 0; j < x.cols(); ++j) x(i, j) = static_cast<float>(centres(c, j) + noise(rng));
    labels.push_back(static_cast<int>(c));
  }
  return x;
}

// Whether all members of each cluster share one code row, and different clusters different rows.
bool codes_recover_clusters(const CodeMatrix& codes, const std::vector<int>& labels, int clusters) {
  std::vector<Eigen::Index> first(static_cast<std::size_t>(clusters), -1);
  for (Eigen::Index i = 0; i < codes.rows(); ++i) {
    Eigen::Index& f = first[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])];
    if (f < 0) f = i;
    else if (codes.row(i) != codes.row(f)) return false;
  }
  std::set<std::vector<int>> distinct;
  for (Eigen::Index f : first) {
    std::vector<int> row;
    for (Eigen::Index m = 0; m < codes.cols(); ++m) row.push_back(codes(f, m));
    distinct.insert(row);
  }
  return static_cast<int>(distinct.size()) == clusters;
}

// Whether the members of one cluster get more than one code in sub-quantiser m.
bool cluster_split(const CodeMatrix& codes, const std::vector<int>& labels, int cluster, Eigen::Index m) {
  std::set<int> seen;
  for (Eigen::Index i = 0; i < codes.rows(); ++i)
    if (labels[static_cast<std::size_t>(i)] == cluster) seen.insert(codes(i, m));
  return seen.size() > 1;
}

}  // namespace

TEST_CASE("kmeans finds separated blobs, deterministically, at any thread count", "[geometry][pq]") {
  RowMatrix<double> centres(5, 3);
  centres << 0, 0, 0,
             10, 0, 0,
             0, 10, 0,
             0, 0, 10,
             10, 10, 10;
  std::vector<int> labels;
  const RowMatrix<double> x = blobs(centres, 40, 0.3, 11, labels).cast<double>();
  KMeansOptions o;
  o.seed = 5;
  const KMeansResult a = kmeans(x, 5, o);
  o.threads = 2;
  const KMeansResult b = kmeans(x, 5, o);
  CHECK(a.centroids == b.centroids);  // bit for bit
  CHECK(a.assignment == b.assignment);
  CHECK(a.inertia == b.inertia);
  // one centroid per blob, each on its centre
  for (Eigen::Index c = 0; c < 5; ++c) {
    double nearest = 1e9;
    for (Eigen::Index j = 0; j < 5; ++j) nearest = std::min(nearest, (a.centroids.row(j) - centres.row(c)).norm());
    CHECK(nearest < 0.2);
  }
  for (std::size_t i = 0; i < labels.size(); ++i) CHECK(a.assignment[i] == a.assignment[static_cast<std::size_t>(labels[i])]);
  CHECK(a.iterations >= 1);

  o.seed = 6;  // another seed still converges to the same partition here, possibly renumbered
  CHECK(std::abs(kmeans(x, 5, o).inertia - a.inertia) < 1e-9 * a.inertia);

  CHECK_THROWS_AS(kmeans(x, 0, o), std::invalid_argument);
  CHECK_THROWS_AS(kmeans(x.topRows(3), 5, o), std::invalid_argument);  // fewer points than clusters
  CHECK_THROWS_AS(kmeans(x, 5, o, CentroidSpace::unit_pairs), std::invalid_argument);  // odd dimension
}

TEST_CASE("kmeans with duplicate points: empty clusters are re-seeded, nothing crashes", "[geometry][pq]") {
  RowMatrix<double> x(8, 1);
  x << 0, 0, 0, 0, 0, 0, 5, 5;  // two distinct values for four clusters
  KMeansOptions o;
  const KMeansResult r = kmeans(x, 4, o);
  CHECK(r.inertia == 0.0);
  CHECK(r.assignment[0] == r.assignment[5]);
  CHECK(r.assignment[6] == r.assignment[7]);
  CHECK(r.assignment[0] != r.assignment[6]);
  CHECK(kmeans(x, 4, o).centroids == r.centroids);
}

TEST_CASE("ProductQuantizer recovers well-separated clusters", "[geometry][pq]") {
  // 16 clusters in d = 4 on the 0..255 scale, M = 2 sub-quantisers of 4 bits: in each 2-D
  // sub-space the 16 centres project to 16 distinct points of a 4 x 4 grid with spacing 60.
  const int clusters = 16;
  RowMatrix<double> centres(clusters, 4);
  for (int c = 0; c < clusters; ++c) {
    const int a = c % 4, b = c / 4;
    // (a, b) -> (a + b, a + 2b + 1) mod 4 is one-to-one (determinant 1), so sub-space 1 also
    // holds 16 distinct projections
    centres.row(c) << 30 + 60 * a, 30 + 60 * b, 30 + 60 * ((a + b) % 4), 30 + 60 * ((a + 2 * b + 1) % 4);
  }
  std::vector<int> labels;
  const RowMatrix<float> x = blobs(centres, 30, 1.5, 21, labels);
  KMeansOptions o;
  o.seed = 3;
  const ProductQuantizer pq = ProductQuantizer::train(x, 2, 4, o);
  CHECK(pq.dim() == 4);
  CHECK(pq.subquantizers() == 2);
  CHECK(pq.sub_dim() == 2);
  CHECK(pq.centroids() == 16);
  const CodeMatrix codes = pq.encode(x);
  REQUIRE(codes.cols() == 2);
  CHECK(codes_recover_clusters(codes, labels, clusters));
  const RowMatrix<float> rec = pq.decode(codes);
  double worst = 0;
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    worst = std::max(worst, (rec.row(i).cast<double>() - centres.row(labels[static_cast<std::size_t>(i)])).norm());
  INFO("worst reconstruction error " << worst << " (noise sd 1.5, 30 points per cluster)");
  CHECK(worst < 1.5);  // the centroid is a mean of 30 points: error ~ sd * sqrt(4 / 30)

  // encode at 2 threads, and the same seed again: identical
  CHECK(pq.encode(x, 2) == codes);
  const ProductQuantizer again = ProductQuantizer::train(x, 2, 4, o);
  CHECK(again.codebook(0) == pq.codebook(0));
  CHECK(again.codebook(1) == pq.codebook(1));
  o.threads = 2;
  CHECK(ProductQuantizer::train(x, 2, 4, o).codebook(1) == pq.codebook(1));

  // the distance table is the squared distance to each centroid
  const RowMatrix<float> t = pq.distance_table(x.row(7).data());
  for (int m = 0; m < 2; ++m)
    for (int c = 0; c < 16; ++c)
      CHECK(t(m, c) == Approx((x.row(7).segment(2 * m, 2) - pq.codebook(m).row(c)).squaredNorm()).epsilon(1e-6));

  // a quantiser rebuilt from its codebooks is the same quantiser
  const ProductQuantizer rebuilt({pq.codebook(0), pq.codebook(1)}, 4);
  CHECK(rebuilt.encode(x) == codes);
}

TEST_CASE("ProductQuantizer shape errors", "[geometry][pq]") {
  RowMatrix<float> x = RowMatrix<float>::Random(300, 6);
  CHECK_THROWS_WITH(ProductQuantizer::train(x, 4, 4), Catch::Contains("does not divide"));
  CHECK_THROWS_AS(ProductQuantizer::train(x, 2, 9), std::invalid_argument);
  CHECK_THROWS_AS(ProductQuantizer::train(x.topRows(100), 2, 8), std::invalid_argument);  // N < 256
  const ProductQuantizer pq = ProductQuantizer::train(x, 3, 2);
  CHECK_THROWS_AS(pq.encode(x.leftCols(4)), std::invalid_argument);
  CHECK_THROWS_AS(pq.decode(CodeMatrix::Zero(2, 2)), std::invalid_argument);
  CHECK_THROWS_AS(pq.decode(CodeMatrix::Constant(2, 3, 4)), std::invalid_argument);  // code 4 with 2 bits
  CHECK(eight_bit_space(CodeMatrix::Constant(1, 2, 255))(0, 1) == 255.0f);
  CHECK(eight_bit_space(RowMatrix<std::int32_t>::Constant(1, 1, -1))(0, 0) == -1.0f);
}

TEST_CASE("circular PQ keeps clusters straddling the wraparound whole; plain PQ splits them", "[geometry][pq]") {
  // Two circles, four clusters; cluster 0 sits at angle 0 on circle 0, so its members lie on
  // both sides of the wrap (about 0.98 .. 1 and 0 .. 0.02). Each sub-quantiser owns one circle
  // (M = 2) with 2 bits: exactly one centroid per cluster projection.
  RowMatrix<double> centres(4, 2);
  centres << 0.0, 0.1,
             0.25, 0.35,
             0.5, 0.6,
             0.75, 0.85;
  std::vector<int> labels;
  RowMatrix<float> u = blobs(centres, 50, 0.006, 31, labels);
  u = u.unaryExpr([](float v) { return wrap01(v); });  // angles in [0, 1)
  bool straddles_low = false, straddles_high = false;
  for (Eigen::Index i = 0; i < u.rows(); ++i) {
    if (labels[static_cast<std::size_t>(i)] != 0) continue;
    straddles_low |= u(i, 0) < 0.5f;
    straddles_high |= u(i, 0) > 0.5f;
  }
  REQUIRE((straddles_low && straddles_high));

  KMeansOptions o;
  o.seed = 9;
  const CircularProductQuantizer cpq = CircularProductQuantizer::train(u, 2, 2, o);
  const CodeMatrix ccodes = cpq.encode(u);
  CHECK(codes_recover_clusters(ccodes, labels, 4));
  // reconstructions: circular means, within a small wrapped distance of the centres
  const RowMatrix<float> rec = cpq.decode(ccodes);
  double worst = 0;
  for (Eigen::Index i = 0; i < u.rows(); ++i)
    for (Eigen::Index k = 0; k < 2; ++k)
      worst = std::max(worst, std::abs(wrapped_diff<double>(rec(i, k), centres(labels[static_cast<std::size_t>(i)], k))));
  INFO("worst wrapped reconstruction error " << worst);
  CHECK(worst < 0.003);
  CHECK(rec.minCoeff() >= 0.0f);
  CHECK(rec.maxCoeff() < 1.0f);

  // plain PQ on the 8-bit space (method.md 9) with the same bits: cluster 0 is split on circle 0
  const RowMatrix<float> eight = eight_bit_space(encode_angles<float>(u));
  const ProductQuantizer pq = ProductQuantizer::train(eight, 2, 2, o);
  const CodeMatrix pcodes = pq.encode(eight);
  CHECK(cluster_split(pcodes, labels, 0, 0));
  CHECK_FALSE(codes_recover_clusters(pcodes, labels, 4));

  // one sub-quantiser owning both circles (M = 1, a group of 2) recovers them too
  const CircularProductQuantizer joint = CircularProductQuantizer::train(u, 1, 2, o);
  CHECK(joint.sub_dim() == 2);
  CHECK(codes_recover_clusters(joint.encode(u), labels, 4));

  // determinism: same seed, either thread count, the same codebooks; rebuilt from codebooks, the
  // same codes
  o.threads = 2;
  const CircularProductQuantizer again = CircularProductQuantizer::train(u, 2, 2, o);
  CHECK(again.codebook(0) == cpq.codebook(0));
  CHECK(again.codebook(1) == cpq.codebook(1));
  CHECK(cpq.encode(u, 2) == ccodes);
  CHECK(CircularProductQuantizer({cpq.codebook(0), cpq.codebook(1)}, 2).encode(u) == ccodes);
}

TEST_CASE("circular PQ distance table is sum of 1 - cos over the group's circles", "[geometry][pq]") {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  RowMatrix<float> u(400, 6);
  for (Eigen::Index i = 0; i < u.size(); ++i) u.data()[i] = static_cast<float>(uni(rng));
  const CircularProductQuantizer cpq = CircularProductQuantizer::train(u, 2, 3);
  REQUIRE(cpq.sub_dim() == 3);
  // angles outside [0, 1) are the same points of the circle
  RowMatrix<float> q(1, 6);
  q << 0.1f, 0.9f, -0.25f, 1.5f, 0.0f, 0.33f;
  const RowMatrix<float> t = cpq.distance_table(q.data());
  for (int m = 0; m < 2; ++m) {
    for (int c = 0; c < 8; ++c) {
      double expected = 0;
      for (int k = 0; k < 3; ++k)
        expected += 1 - std::cos(2 * std::numbers::pi * (static_cast<double>(q(0, 3 * m + k)) - cpq.codebook(m)(c, k)));
      CHECK(t(m, c) == Approx(expected).margin(1e-6));
    }
  }
  // encoding picks the row minimum of the table
  const CodeMatrix code = cpq.encode(q);
  for (int m = 0; m < 2; ++m) {
    Eigen::Index best;
    t.row(m).minCoeff(&best);
    CHECK(code(0, m) == best);
  }
  CHECK_THROWS_AS(CircularProductQuantizer::train(u, 4, 3), std::invalid_argument);  // 4 does not divide 6
}
