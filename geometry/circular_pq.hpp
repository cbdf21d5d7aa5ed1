// Circular product quantisation, our improvement on the reference's PQ modes [D]. Plain PQ
// (product_quantizer.hpp) runs Euclidean k-means on angle codes 0..255 and so cuts every circle
// open at 0: a cluster of angles straddling the wrap (some near 0, some near 1) is split, and its
// "mean" lands on the far side of the circle. Here each sub-quantiser owns a group of d / M
// circles and k-means runs on the torus itself:
//
//   distance   delta(a, c) = sum over the group's circles k of 1 - cos(2 pi (a_k - c_k))
//   centroid   circular mean per circle, atan2(mean sin, mean cos) / 2 pi, in [0, 1)
//
// Why 1 - cos and not the squared wrapped difference: (1) it is half the squared chordal distance
// in the Clifford embedding, so the search ranks by the same quantity the float and uint8 torus
// searches use (Clifford inner product, method.md 3.3 and 12); (2) the circular mean is the exact
// minimiser of sum_n (1 - cos(a_n - c)) over c, so Lloyd's two steps both lower the same objective
// and the iteration converges, whereas for the squared wrapped difference the circular mean is
// only an approximation of the minimiser (the Frechet mean, which needs a search); (3) it needs
// no wrap or branch, just cos a cos c + sin a sin c with the centroids' cos and sin precomputed.
// The training is kmeans(..., CentroidSpace::unit_pairs) on the (cos, sin) pairs of the angles.
//
// Bits per vector are M b, the same as plain PQ with the same M and b, so the two compare at equal
// size. Angles are in turns; any real works (only the value mod 1 matters), e.g. unwrap_pairs(z)
// for torusN, h for torusC, or decode_angles of uint8 codes.
#pragma once

#include "geometry/kmeans.hpp"
#include "geometry/row_matrix.hpp"

#include <cstdint>
#include <vector>

namespace torus::geometry {

class CircularProductQuantizer {
 public:
  // Trains on angles (N, d): M sub-quantisers of 2^bits centroids, bits in [1, 8]. Throws if M
  // does not divide d or N < 2^bits. Sub-quantiser m is seeded with derive_seed(options.seed, m).
  static CircularProductQuantizer train(const Eigen::Ref<const RowMatrix<float>>& angles, int M, int bits,
                                        const KMeansOptions& options = {});

  // From M stored codebooks of centroid angles, each (2^bits, d / M).
  CircularProductQuantizer(std::vector<RowMatrix<float>> codebooks, int bits);

  int dim() const { return dim_; }
  int subquantizers() const { return static_cast<int>(codebooks_.size()); }
  int sub_dim() const { return sub_dim_; }
  int bits() const { return bits_; }
  int centroids() const { return 1 << bits_; }
  // Centroid angles of sub-quantiser m, (2^b, d / M), in [0, 1).
  const RowMatrix<float>& codebook(int m) const { return codebooks_[static_cast<std::size_t>(m)]; }

  // (N, d) angles -> (N, M) codes: the centroid of least delta (as in distance_table), ties to the
  // lower index.
  CodeMatrix encode(const Eigen::Ref<const RowMatrix<float>>& angles, int threads = 1) const;

  // (N, M) codes -> (N, d) centroid angles in [0, 1).
  RowMatrix<float> decode(const Eigen::Ref<const CodeMatrix>& codes) const;

  // (M, 2^b): entry (m, c) = delta(query group m, centroid c), computed in double, stored in float.
  // The distance to a code is the sum of its M entries (search: knn_circular_pq).
  RowMatrix<float> distance_table(const float* query_angles) const;
  void distance_table(const float* query_angles, float* table) const;

 private:
  std::vector<RowMatrix<float>> codebooks_;  // M x (2^b, d/M) angles
  std::vector<RowMatrix<double>> cos_, sin_;  // the same shape: cos and sin of 2 pi angle
  int bits_, dim_, sub_dim_;
};

}  // namespace torus::geometry
