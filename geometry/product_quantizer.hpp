// Product quantisation, the reference's `pq<b>_<M>` modes (method.md 9): the d coordinates are cut
// into M consecutive groups of d / M, and each group is replaced by the index of the nearest of
// 2^b centroids learnt for it by k-means (kmeans.hpp). M b bits per vector.
//
// As in the reference, PQ is trained on the 8-bit space: the uint8 codes as floats 0..255
// (eight_bit_space below) -- torusN_codes (d = D/2) or torusC_codes (d = D) for the torus modes,
// the 8-bit GridQuantizer codes (d = D) for the sphere -- and k-means is Euclidean there, so it
// ignores the wraparound (circular_pq.hpp is our fix for that).
//
// Deviations from faiss IndexPQ [D]: k-means++ seeding (faiss draws random points), all training
// points used (faiss subsamples to 256 per centroid), our own empty-cluster rule, and a
// different random stream: codebooks are reproducible, but not faiss's. Codes are stored one byte
// per sub-quantiser whatever b is (b = 4 is not packed two to a byte); the bit count M b is what
// the method's tables count.
#pragma once

#include "geometry/kmeans.hpp"
#include "geometry/row_matrix.hpp"

#include <cstdint>
#include <vector>

namespace torus::geometry {

// The 8-bit space of method.md 9: codes as floats (0..255 for uint8 codes; grid codes may also be
// negative for test values below the training minimum).
RowMatrix<float> eight_bit_space(const Eigen::Ref<const CodeMatrix>& codes);
RowMatrix<float> eight_bit_space(const Eigen::Ref<const RowMatrix<std::int32_t>>& grid_codes);

class ProductQuantizer {
 public:
  // Trains on x (N, d): M sub-quantisers of 2^bits centroids, bits in [1, 8]. Throws
  // std::invalid_argument if M does not divide d (the reference skips such a mode) or
  // N < 2^bits. Sub-quantiser m is seeded with derive_seed(options.seed, m).
  static ProductQuantizer train(const Eigen::Ref<const RowMatrix<float>>& x, int M, int bits,
                                const KMeansOptions& options = {});

  // From M stored codebooks, each (2^bits, d / M) with the same shape.
  ProductQuantizer(std::vector<RowMatrix<float>> codebooks, int bits);

  int dim() const { return dim_; }                          // d
  int subquantizers() const { return static_cast<int>(codebooks_.size()); }  // M
  int sub_dim() const { return sub_dim_; }                  // d / M
  int bits() const { return bits_; }                        // b
  int centroids() const { return 1 << bits_; }              // 2^b
  const RowMatrix<float>& codebook(int m) const { return codebooks_[static_cast<std::size_t>(m)]; }

  // (N, d) -> (N, M): the nearest centroid of each group (squared L2 as in distance_table, ties
  // to the lower centroid index).
  CodeMatrix encode(const Eigen::Ref<const RowMatrix<float>>& x, int threads = 1) const;

  // (N, M) codes -> (N, d) reconstructions (the centroids side by side).
  RowMatrix<float> decode(const Eigen::Ref<const CodeMatrix>& codes) const;

  // The asymmetric-distance table of one query (d values): (M, 2^b), entry (m, c) the squared L2
  // distance, summed in float in coordinate order, from the query's group m to centroid c of
  // codebook m. The distance to a code is the sum of its M entries (search: knn_pq).
  RowMatrix<float> distance_table(const float* query) const;
  // The same into table[m * 2^b + c] (M 2^b floats), without allocating.
  void distance_table(const float* query, float* table) const;

 private:
  std::vector<RowMatrix<float>> codebooks_;  // M x (2^b, d/M)
  int bits_, dim_, sub_dim_;
};

}  // namespace torus::geometry
