// A code index: torus embeddings quantised once and searched many times (faiss's Index for our
// codes). It holds one kind of code, its quantiser (PQ codebooks, the 1-bit grid's range) and an
// int64 id per vector, and searches with the same kernels torus-quant-eval measures
// (code_search.hpp), so an index answers exactly what the quantisation table scored:
//
//   kind    stored per vector              quantiser             search (score, nearer)
//   u8      K uint8 torus codes            none (fixed [0, 1))   knn_cosine_lut, A = 127 (int32, larger)
//   u8-dot  K uint8 torus codes            none                  knn_cosine_dot, A = 127 (int32, larger)
//   pq8_2   2 bytes                        PQ of the 8-bit space knn_pq (float, smaller)
//   cpq8_2  2 bytes                        circular PQ, angles   knn_circular_pq (float, smaller)
//   1bit    ceil(D / 64) uint64 words      1-bit grid range      knn_hamming (int32, smaller)
//   float   2K float32 Clifford vector     none                  knn_inner_product (float, larger)
//
// Input vectors are a torus head's raw outputs z, (N, D): torusN's pairwise-normalised z (K = D/2
// circles) or torusC's coordinates h (K = D). The sphere has no torus codes and is not indexed.
// u8-dot stores the K-byte codes, not the 2K cos/sin bytes its AVX-512 kernel scores, so that
// kernel rebuilds them (a pass over all codes) on every search.
// Trained quantisers (pq8_2, cpq8_2, 1bit) are fitted on the vectors given to build; add encodes
// with them unchanged, as faiss does after train.
//
// Storage is either owned (build, add) or borrowed from a read-only file mapping
// (nn/io/code_index_file.hpp); add on a mapped index first copies it. Nothing here reads files.
#pragma once

#include "geometry/circular_pq.hpp"
#include "geometry/grid_quantizer.hpp"
#include "geometry/code_search.hpp"
#include "geometry/product_quantizer.hpp"
#include "geometry/row_matrix.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace torus::geometry {

enum class CodeKind : std::uint32_t { u8 = 0, u8_dot = 1, pq8_2 = 2, cpq8_2 = 3, one_bit = 4, float32 = 5 };

// How input rows are read: torusN z (adjacent (cos, sin) pairs) or torusC coordinates h.
enum class TorusHead : std::uint32_t { torusN = 0, torusC = 1 };

// "u8", "u8-dot", "pq8_2", "cpq8_2", "1bit", "float"; parse throws std::invalid_argument listing them.
const char* code_kind_name(CodeKind kind);
CodeKind parse_code_kind(const std::string& name);
std::vector<std::string> code_kind_names();
const char* torus_head_name(TorusHead head);

// Row i is query i's k neighbours, nearest first (ties to the earlier stored vector). Scores are
// the kernel's int32 or float score, both exact in double.
struct CodeSearchResult {
  RowMatrix<std::int64_t> ids;  // (N_q, k)
  RowMatrix<double> scores;     // (N_q, k)
  bool larger_is_nearer = true;
};

// Vectors stored by a file mapping: codes (size, row_bytes) and ids (size), which `keeper` keeps
// mapped for as long as any index points into them.
struct BorrowedCodes {
  const std::uint8_t* codes = nullptr;
  const std::int64_t* ids = nullptr;
  std::int64_t size = 0;
  std::shared_ptr<const void> keeper;
};

// The quantiser a kind needs (at most one is set).
struct CodeQuantizer {
  std::optional<ProductQuantizer> pq;            // pq8_2
  std::optional<CircularProductQuantizer> cpq;   // cpq8_2
  std::optional<GridQuantizer> grid;             // 1bit
};

class CodeIndex {
 public:
  // Encodes z (N, D) with ids 0..N-1, after fitting the kind's quantiser on z. Throws
  // std::invalid_argument for N = 0, an odd D for torusN, a non-finite value, or a quantiser that
  // cannot be fitted (pq8_2 and cpq8_2: fewer than 256 vectors or an odd K; 1bit: a coordinate
  // with one value only). threads >= 1 for the k-means of the PQ kinds.
  static CodeIndex build(CodeKind kind, TorusHead head, const Eigen::Ref<const RowMatrix<float>>& z, int threads = 1);

  // An index over borrowed vectors (the file reader): the caller has checked that the quantiser
  // matches the kind and that the storage holds size * row_bytes() code bytes and size ids.
  CodeIndex(CodeKind kind, TorusHead head, std::int64_t dim, CodeQuantizer quantizer, BorrowedCodes borrowed);

  CodeIndex(CodeIndex&&) = default;
  CodeIndex& operator=(CodeIndex&&) = default;
  CodeIndex(const CodeIndex&) = delete;  // storage may be a mapping; copy explicitly with add
  CodeIndex& operator=(const CodeIndex&) = delete;

  // Appends z (N, D) with ids continuing after the last one; the quantiser is not refitted.
  void add(const Eigen::Ref<const RowMatrix<float>>& z);

  // Whether a larger score is nearer (cosine and inner-product kinds) or a smaller one (distances).
  bool larger_is_nearer() const;
  // A distributed search cuts the index at multiples of this many rows, where every kind's scores
  // are exactly those of a search over the whole index (the float kind's GEMM blocks end there).
  static constexpr std::int64_t kPartRows = kInnerProductRefBlock;

  // Stored vectors [first, first + count) as an index of their own (same kind, quantiser and ids),
  // borrowing this index's storage: the shard one rank searches in a distributed search. It must
  // not outlive this index (a mapped index's mapping is shared and outlives both). count >= 1.
  CodeIndex part(std::int64_t first, std::int64_t count) const;

  // The k nearest stored vectors of each query (N_q, D) raw head output; 1 <= k <= size().
  CodeSearchResult search(const Eigen::Ref<const RowMatrix<float>>& queries, int k, int threads = 1) const;

  CodeKind kind() const { return kind_; }
  TorusHead head() const { return head_; }
  std::int64_t dim() const { return dim_; }        // D of the input vectors
  std::int64_t size() const { return size_; }      // stored vectors
  std::int64_t row_bytes() const { return row_bytes_of(kind_, head_, dim_); }
  const CodeQuantizer& quantizer() const { return quantizer_; }
  const std::uint8_t* codes() const { return codes_; }  // (size, row_bytes)
  const std::int64_t* ids() const { return ids_; }      // (size)
  bool is_mapped() const { return keeper_ != nullptr; }  // storage borrowed: a file mapping, or a part()

  // K circles for D inputs (D/2 for torusN), and the bytes one vector's code takes.
  static std::int64_t circles(TorusHead head, std::int64_t dim) { return head == TorusHead::torusN ? dim / 2 : dim; }
  static std::int64_t row_bytes_of(CodeKind kind, TorusHead head, std::int64_t dim);

 private:
  CodeIndex(CodeKind kind, TorusHead head, std::int64_t dim, CodeQuantizer quantizer);
  std::vector<std::uint8_t> encode(const Eigen::Ref<const RowMatrix<float>>& z, int threads) const;
  void append(const std::vector<std::uint8_t>& codes, std::int64_t rows);
  void own_storage();

  CodeKind kind_;
  TorusHead head_;
  std::int64_t dim_;
  CodeQuantizer quantizer_;
  // Owned storage, in 8-byte words so uint64 and float codes are aligned in place.
  std::vector<std::uint64_t> owned_codes_;
  std::vector<std::int64_t> owned_ids_;
  std::shared_ptr<const void> keeper_;  // set while codes_ and ids_ point into a mapping
  const std::uint8_t* codes_ = nullptr;
  const std::int64_t* ids_ = nullptr;
  std::int64_t size_ = 0;
};

}  // namespace torus::geometry
