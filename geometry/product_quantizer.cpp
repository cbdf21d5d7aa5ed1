#include "geometry/product_quantizer.hpp"

#include "geometry/pq_codes.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace torus::geometry {

RowMatrix<float> eight_bit_space(const Eigen::Ref<const CodeMatrix>& codes) { return codes.cast<float>(); }

RowMatrix<float> eight_bit_space(const Eigen::Ref<const RowMatrix<std::int32_t>>& grid_codes) {
  return grid_codes.cast<float>();
}

namespace {
void check_pq_shape(const char* what, Eigen::Index d, int M, int bits) {
  if (bits < 1 || bits > 8) throw std::invalid_argument(std::string(what) + ": bits must be in [1, 8], got " + std::to_string(bits));
  if (M < 1 || d < 1 || d % M != 0) {
    throw std::invalid_argument(std::string(what) + ": M = " + std::to_string(M) + " does not divide d = " + std::to_string(d));
  }
}
}  // namespace

ProductQuantizer ProductQuantizer::train(const Eigen::Ref<const RowMatrix<float>>& x, int M, int bits,
                                         const KMeansOptions& options) {
  check_pq_shape("ProductQuantizer::train", x.cols(), M, bits);
  const Eigen::Index ds = x.cols() / M;
  std::vector<RowMatrix<float>> books;
  for (int m = 0; m < M; ++m) {
    KMeansOptions o = options;
    o.seed = derive_seed(options.seed, static_cast<std::uint64_t>(m));
    const RowMatrix<double> group = x.middleCols(m * ds, ds).cast<double>();
    books.push_back(kmeans(group, 1 << bits, o).centroids.cast<float>());
  }
  return ProductQuantizer(std::move(books), bits);
}

ProductQuantizer::ProductQuantizer(std::vector<RowMatrix<float>> codebooks, int bits)
    : codebooks_(std::move(codebooks)), bits_(bits), dim_(0), sub_dim_(0) {
  if (codebooks_.empty()) throw std::invalid_argument("ProductQuantizer: no codebooks");
  sub_dim_ = static_cast<int>(codebooks_[0].cols());
  dim_ = sub_dim_ * subquantizers();
  check_pq_shape("ProductQuantizer", dim_, subquantizers(), bits);
  for (const RowMatrix<float>& b : codebooks_) {
    if (b.rows() != centroids() || b.cols() != sub_dim_) {
      throw std::invalid_argument("ProductQuantizer: codebook of shape " + shape_string(b.rows(), b.cols()) +
                                  ", expected " + shape_string(centroids(), sub_dim_));
    }
  }
}

RowMatrix<float> ProductQuantizer::distance_table(const float* query) const {
  RowMatrix<float> t(subquantizers(), centroids());  // (M, 2^b)
  distance_table(query, t.data());
  return t;
}

void ProductQuantizer::distance_table(const float* query, float* table) const {
  const int M = subquantizers(), C = centroids();
  for (int m = 0; m < M; ++m) {
    const float* q = query + m * sub_dim_;
    const RowMatrix<float>& book = codebooks_[static_cast<std::size_t>(m)];
    for (int c = 0; c < C; ++c) {
      float s = 0;
      for (int j = 0; j < sub_dim_; ++j) {
        const float e = q[j] - book(c, j);
        s += e * e;
      }
      table[m * C + c] = s;
    }
  }
}

CodeMatrix ProductQuantizer::encode(const Eigen::Ref<const RowMatrix<float>>& x, int threads) const {
  if (x.cols() != dim_) {
    throw std::invalid_argument("ProductQuantizer::encode: expected " + std::to_string(dim_) + " columns, got " +
                                shape_string(x.rows(), x.cols()));
  }
  if (threads < 1) throw std::invalid_argument("ProductQuantizer::encode: threads must be >= 1");
  const RowMatrix<float> points = x;  // contiguous rows for distance_table
  return detail::encode_by_tables(points, subquantizers(), centroids(), threads,
                                  [this](const float* row, float* table) { distance_table(row, table); });
}

RowMatrix<float> ProductQuantizer::decode(const Eigen::Ref<const CodeMatrix>& codes) const {
  return detail::decode_codebooks(codebooks_, codes, sub_dim_, "ProductQuantizer");
}

}  // namespace torus::geometry
