#include "geometry/kmeans.hpp"

#include "geometry/omp_pragma.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace torus::geometry {

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {
double squared_distance(const double* a, const double* b, Eigen::Index d) {
  double s = 0;
  for (Eigen::Index j = 0; j < d; ++j) {
    const double t = a[j] - b[j];
    s += t * t;
  }
  return s;
}

// Projects every (cos, sin) pair of a centroid back onto the unit circle. A pair whose mean is
// exactly zero (members spread evenly round the circle) has no direction; it gets angle 0,
// atan2(0, 0)'s answer, so the result stays deterministic.
void project_pairs(double* c, Eigen::Index d) {
  for (Eigen::Index j = 0; j + 1 < d; j += 2) {
    const double r = std::hypot(c[j], c[j + 1]);
    if (r > 0) {
      c[j] /= r;
      c[j + 1] /= r;
    } else {
      c[j] = 1;
      c[j + 1] = 0;
    }
  }
}

// Assigns every point to its nearest centroid (ties to the lower index); returns the inertia,
// summed in point order so it is thread-independent. The centroids are transposed to (d, C) so
// the distances to all C of them are one vectorised pass per coordinate; each distance is still
// summed over coordinates in order, the same arithmetic for every point on any thread.
double assign(const RowMatrix<double>& x, const RowMatrix<double>& centroids, std::vector<std::int32_t>& assignment,
              std::vector<double>& distance, int threads) {
  const Eigen::Index N = x.rows(), C = centroids.rows(), d = x.cols();
  const RowMatrix<double> ct = centroids.transpose();  // (d, C)
  static_cast<void>(threads);  // without OpenMP
TORUS_GEOMETRY_OMP(parallel num_threads(threads))
  {
    std::vector<double> dist(static_cast<std::size_t>(C));
TORUS_GEOMETRY_OMP(for schedule(static))
    for (Eigen::Index n = 0; n < N; ++n) {
      double* __restrict dc = dist.data();
      std::fill(dc, dc + C, 0.0);
      for (Eigen::Index j = 0; j < d; ++j) {
        const double xj = x(n, j);
        const double* __restrict cj = ct.row(j).data();
        for (Eigen::Index c = 0; c < C; ++c) {
          const double t = xj - cj[c];
          dc[c] += t * t;
        }
      }
      Eigen::Index best = 0;
      for (Eigen::Index c = 1; c < C; ++c)
        if (dc[c] < dc[best]) best = c;  // strict: ties keep the lower index
      assignment[static_cast<std::size_t>(n)] = static_cast<std::int32_t>(best);
      distance[static_cast<std::size_t>(n)] = dc[best];
    }
  }
  double inertia = 0;
  for (double v : distance) inertia += v;
  return inertia;
}
}  // namespace

KMeansResult kmeans(const Eigen::Ref<const RowMatrix<double>>& x, int clusters, const KMeansOptions& options,
                    CentroidSpace space) {
  const Eigen::Index N = x.rows(), d = x.cols();
  if (clusters < 1 || clusters > N) {
    throw std::invalid_argument("kmeans: need 1 <= clusters <= points, got " + std::to_string(clusters) + " clusters for " +
                                std::to_string(N) + " points");
  }
  if (d < 1 || (space == CentroidSpace::unit_pairs && d % 2 != 0)) {
    throw std::invalid_argument("kmeans: bad point dimension " + std::to_string(d));
  }
  if (options.iterations < 0 || options.threads < 1 || !(options.tolerance >= 0)) {
    throw std::invalid_argument("kmeans: iterations >= 0, threads >= 1 and tolerance >= 0 required");
  }
  if (!x.allFinite()) throw std::invalid_argument("kmeans: non-finite point");
  const auto C = static_cast<Eigen::Index>(clusters);
  // x is a Ref with an outer stride; the distance helpers read each row as a plain array.
  const RowMatrix<double> points = x;

  // k-means++ seeding.
  std::mt19937_64 rng(options.seed);
  KMeansResult r;
  r.centroids.resize(C, d);
  std::vector<double> nearest(static_cast<std::size_t>(N));
  Eigen::Index pick = static_cast<Eigen::Index>(rng() % static_cast<std::uint64_t>(N));
  r.centroids.row(0) = points.row(pick);
  for (Eigen::Index n = 0; n < N; ++n)
    nearest[static_cast<std::size_t>(n)] = squared_distance(points.row(n).data(), r.centroids.row(0).data(), d);
  for (Eigen::Index c = 1; c < C; ++c) {
    double total = 0;
    for (double v : nearest) total += v;
    const double u = unit_interval(rng());
    if (total > 0) {
      const double target = u * total;
      double running = 0;
      pick = -1;
      for (Eigen::Index n = 0; n < N; ++n) {
        const double v = nearest[static_cast<std::size_t>(n)];
        if (v <= 0) continue;
        pick = n;  // the last point with weight, should rounding leave target beyond the sum
        running += v;
        if (running > target) break;
      }
    } else {
      pick = std::min<Eigen::Index>(N - 1, static_cast<Eigen::Index>(u * static_cast<double>(N)));
    }
    r.centroids.row(c) = points.row(pick);
    for (Eigen::Index n = 0; n < N; ++n) {
      double& v = nearest[static_cast<std::size_t>(n)];
      v = std::min(v, squared_distance(points.row(n).data(), r.centroids.row(c).data(), d));
    }
  }

  // Lloyd iterations.
  r.assignment.assign(static_cast<std::size_t>(N), 0);
  std::vector<double> distance(static_cast<std::size_t>(N));
  r.inertia = assign(points, r.centroids, r.assignment, distance, options.threads);
  RowMatrix<double> sums(C, d);
  std::vector<Eigen::Index> counts(static_cast<std::size_t>(C));
  for (int it = 0; it < options.iterations && r.inertia > 0; ++it) {
    sums.setZero();
    std::fill(counts.begin(), counts.end(), 0);
    for (Eigen::Index n = 0; n < N; ++n) {  // serial, in point order: the sums are thread-independent
      const std::int32_t a = r.assignment[static_cast<std::size_t>(n)];
      sums.row(a) += points.row(n);
      ++counts[static_cast<std::size_t>(a)];
    }
    for (Eigen::Index c = 0; c < C; ++c) {
      const Eigen::Index count = counts[static_cast<std::size_t>(c)];
      if (count > 0) {
        r.centroids.row(c) = sums.row(c) / static_cast<double>(count);
        if (space == CentroidSpace::unit_pairs) project_pairs(r.centroids.row(c).data(), d);
        continue;
      }
      // Empty: re-seed at the point with the largest error; mark it used (distance -1).
      Eigen::Index far = 0;
      for (Eigen::Index n = 1; n < N; ++n)
        if (distance[static_cast<std::size_t>(n)] > distance[static_cast<std::size_t>(far)]) far = n;
      r.centroids.row(c) = points.row(far);
      distance[static_cast<std::size_t>(far)] = -1;
    }
    const double previous = r.inertia;
    r.inertia = assign(points, r.centroids, r.assignment, distance, options.threads);
    r.iterations = it + 1;
    if (previous - r.inertia <= options.tolerance * previous) break;
  }
  return r;
}

}  // namespace torus::geometry
