#include "geometry/circular_pq.hpp"

#include "geometry/pq_codes.hpp"

#include "geometry/flat_torus.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>

namespace torus::geometry {

namespace {
constexpr double kTwoPi = 2 * std::numbers::pi;

void check_shape(const char* what, Eigen::Index d, int M, int bits) {
  if (bits < 1 || bits > 8) throw std::invalid_argument(std::string(what) + ": bits must be in [1, 8], got " + std::to_string(bits));
  if (M < 1 || d < 1 || d % M != 0) {
    throw std::invalid_argument(std::string(what) + ": M = " + std::to_string(M) + " does not divide d = " + std::to_string(d));
  }
}

// 2 pi u with u wrapped first, so large |u| loses no precision (as in clifford_torus.cpp).
double radians(float u) { return kTwoPi * wrap01(static_cast<double>(u)); }
}  // namespace

CircularProductQuantizer CircularProductQuantizer::train(const Eigen::Ref<const RowMatrix<float>>& angles, int M,
                                                         int bits, const KMeansOptions& options) {
  check_shape("CircularProductQuantizer::train", angles.cols(), M, bits);
  if (!angles.allFinite()) throw std::invalid_argument("CircularProductQuantizer::train: non-finite angle");
  const Eigen::Index N = angles.rows(), ds = angles.cols() / M;
  std::vector<RowMatrix<float>> books;
  for (int m = 0; m < M; ++m) {
    // The group's circles as interleaved (cos, sin) pairs: k-means there, centroids projected
    // back onto the circles, is k-means on the torus with the 1 - cos distance (kmeans.hpp).
    RowMatrix<double> pairs(N, 2 * ds);
    for (Eigen::Index n = 0; n < N; ++n) {
      for (Eigen::Index k = 0; k < ds; ++k) {
        const double a = radians(angles(n, m * ds + k));
        pairs(n, 2 * k) = std::cos(a);
        pairs(n, 2 * k + 1) = std::sin(a);
      }
    }
    KMeansOptions o = options;
    o.seed = derive_seed(options.seed, static_cast<std::uint64_t>(m));
    const RowMatrix<double> c = kmeans(pairs, 1 << bits, o, CentroidSpace::unit_pairs).centroids;
    RowMatrix<float> book(c.rows(), ds);
    for (Eigen::Index i = 0; i < c.rows(); ++i)
      for (Eigen::Index k = 0; k < ds; ++k)
        book(i, k) = static_cast<float>(wrap01(std::atan2(c(i, 2 * k + 1), c(i, 2 * k)) / kTwoPi));
    // atan2 / 2 pi may round to 1.0f in float for angles a hair below 1: fold to 0
    books.push_back(book.unaryExpr([](float v) { return v >= 1.0f ? 0.0f : v; }));
  }
  return CircularProductQuantizer(std::move(books), bits);
}

CircularProductQuantizer::CircularProductQuantizer(std::vector<RowMatrix<float>> codebooks, int bits)
    : codebooks_(std::move(codebooks)), bits_(bits), dim_(0), sub_dim_(0) {
  if (codebooks_.empty()) throw std::invalid_argument("CircularProductQuantizer: no codebooks");
  sub_dim_ = static_cast<int>(codebooks_[0].cols());
  dim_ = sub_dim_ * subquantizers();
  check_shape("CircularProductQuantizer", dim_, subquantizers(), bits);
  for (const RowMatrix<float>& b : codebooks_) {
    if (b.rows() != centroids() || b.cols() != sub_dim_) {
      throw std::invalid_argument("CircularProductQuantizer: codebook of shape " + shape_string(b.rows(), b.cols()) +
                                  ", expected " + shape_string(centroids(), sub_dim_));
    }
    if (!b.allFinite()) throw std::invalid_argument("CircularProductQuantizer: non-finite centroid angle");
    // From the stored float angles, so a quantiser rebuilt from saved codebooks is the same.
    cos_.push_back(b.unaryExpr([](float u) { return std::cos(radians(u)); }));
    sin_.push_back(b.unaryExpr([](float u) { return std::sin(radians(u)); }));
  }
}

RowMatrix<float> CircularProductQuantizer::distance_table(const float* query_angles) const {
  RowMatrix<float> t(subquantizers(), centroids());  // (M, 2^b)
  distance_table(query_angles, t.data());
  return t;
}

void CircularProductQuantizer::distance_table(const float* query_angles, float* table) const {
  const int M = subquantizers(), C = centroids();
  double qc[256], qs[256];  // one group's query cos / sin; groups are split into chunks of 256
  for (int m = 0; m < M; ++m) {
    const RowMatrix<double>& cc = cos_[static_cast<std::size_t>(m)];
    const RowMatrix<double>& sc = sin_[static_cast<std::size_t>(m)];
    for (int c = 0; c < C; ++c) table[m * C + c] = 0;
    for (int k0 = 0; k0 < sub_dim_; k0 += 256) {
      const int k1 = std::min(sub_dim_, k0 + 256);
      for (int k = k0; k < k1; ++k) {
        const double a = radians(query_angles[m * sub_dim_ + k]);
        qc[k - k0] = std::cos(a);
        qs[k - k0] = std::sin(a);
      }
      for (int c = 0; c < C; ++c) {
        // cos(a - c) = cos a cos c + sin a sin c
        double s = 0;
        for (int k = k0; k < k1; ++k) s += 1.0 - (qc[k - k0] * cc(c, k) + qs[k - k0] * sc(c, k));
        table[m * C + c] += static_cast<float>(s);
      }
    }
  }
}

CodeMatrix CircularProductQuantizer::encode(const Eigen::Ref<const RowMatrix<float>>& angles, int threads) const {
  if (angles.cols() != dim_) {
    throw std::invalid_argument("CircularProductQuantizer::encode: expected " + std::to_string(dim_) + " columns, got " +
                                shape_string(angles.rows(), angles.cols()));
  }
  if (threads < 1) throw std::invalid_argument("CircularProductQuantizer::encode: threads must be >= 1");
  if (!angles.allFinite()) throw std::invalid_argument("CircularProductQuantizer::encode: non-finite angle");
  const RowMatrix<float> points = angles;  // contiguous rows for distance_table
  return detail::encode_by_tables(points, subquantizers(), centroids(), threads,
                                  [this](const float* row, float* table) { distance_table(row, table); });
}

RowMatrix<float> CircularProductQuantizer::decode(const Eigen::Ref<const CodeMatrix>& codes) const {
  return detail::decode_codebooks(codebooks_, codes, sub_dim_, "CircularProductQuantizer");
}

}  // namespace torus::geometry
