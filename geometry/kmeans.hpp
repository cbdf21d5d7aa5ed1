// Lloyd's k-means with k-means++ seeding, the training step of both product quantisers
// (product_quantizer.hpp, circular_pq.hpp). Deterministic: the same points, options and seed give
// the same centroids bit for bit at any thread count. The random draws do not depend on the
// standard library either: std::mt19937_64, whose output the standard fixes, with our own
// integer-to-double mapping instead of std::uniform_*_distribution, whose output it does not
// (floating-point results may still differ across compilers and flags, e.g. FMA contraction).
//
// Two centroid spaces:
//   - euclidean: the centroid update is the mean (plain k-means, as faiss's IndexPQ trains).
//   - unit_pairs: the columns are (cos, sin) pairs of circles and each centroid pair is projected
//     back onto the unit circle after the mean. For points on the torus ||p - c||^2 =
//     2 sum_k (1 - cos(theta_p,k - theta_c,k)), and the minimiser of that over unit c is exactly
//     the normalised mean pair, i.e. the circular mean atan2(mean sin, mean cos). So this is
//     k-means on the torus with the 1 - cos distance, and each Lloyd step still never raises the
//     objective.
#pragma once

#include "geometry/row_matrix.hpp"

#include <cstdint>
#include <vector>

namespace torus::geometry {

struct KMeansOptions {
  int iterations = 25;       // Lloyd updates at most (faiss's default niter)
  double tolerance = 1e-7;   // stop once an update lowers the inertia by <= tolerance * inertia
  std::uint64_t seed = 1234;
  int threads = 1;           // for the assignment step only; results do not depend on it
};

enum class CentroidSpace { euclidean, unit_pairs };

struct KMeansResult {
  RowMatrix<double> centroids;           // (C, d)
  std::vector<std::int32_t> assignment;  // (N), nearest centroid of each point
  double inertia = 0;                    // sum of squared distances to the assigned centroids
  int iterations = 0;                    // updates done
};

// k-means of x (N, d) into C clusters. Needs N >= C >= 1 (and even d for unit_pairs).
// Seeding: k-means++ (first centre uniform, then each with probability proportional to the
// squared distance to the nearest centre so far; if all points already coincide with centres,
// a uniform draw). Assignment: nearest centroid, ties to the lower centroid index. A cluster left
// empty by an update is re-seeded at the point farthest from its own centroid (ties to the lower
// point index; each point re-seeds at most one cluster per update), the rule that removes the
// largest error first and needs no random draw.
KMeansResult kmeans(const Eigen::Ref<const RowMatrix<double>>& x, int clusters, const KMeansOptions& options,
                    CentroidSpace space = CentroidSpace::euclidean);

// A uniform double in [0, 1) from one 64-bit draw, the same on every platform.
inline double unit_interval(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// A seed for sub-problem `stream` of a run seeded `seed` (splitmix64 of the pair), so the M
// sub-quantisers of one product quantiser draw independent, reproducible streams.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace torus::geometry
