// CodeIndex: each kind's encoding and search are the calls torus-quant-eval's table makes
// (train/eval/quant_table.cpp), in the same order on the same spaces, so the two agree bit for bit.
#include "geometry/code_index.hpp"

#include "geometry/clifford_torus.hpp"
#include "geometry/code_search.hpp"
#include "geometry/one_bit_codes.hpp"
#include "geometry/uint8_codes.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>

namespace torus::geometry {

namespace {
using Mat = RowMatrix<float>;

constexpr const char* kKindNames[] = {"u8", "u8-dot", "pq8_2", "cpq8_2", "1bit", "float"};
constexpr int kPqBits = 8, kPqSubquantizers = 2;  // the pq8_2 and cpq8_2 of the table
constexpr int kLutAmplitude = 127;                // the table's CosineLut

Mat angles(TorusHead head, const Eigen::Ref<const Mat>& z) {
  return head == TorusHead::torusN ? unwrap_pairs<float>(z) : Mat(z);
}
CodeMatrix torus_codes(TorusHead head, const Eigen::Ref<const Mat>& z) {
  return head == TorusHead::torusN ? torusN_codes<float>(z) : torusC_codes<float>(z);
}
Mat one_bit_space(TorusHead head, const Eigen::Ref<const Mat>& z) {
  return head == TorusHead::torusN ? torusN_one_bit_space<float>(z) : torusC_one_bit_space<float>(z);
}

template <typename S>
CodeSearchResult converted(const KnnResult<S>& knn, const std::int64_t* ids, bool larger_is_nearer) {
  CodeSearchResult out;
  out.ids = knn.indices.unaryExpr([ids](std::int64_t i) { return ids[i]; });
  out.scores = knn.scores.template cast<double>();
  out.larger_is_nearer = larger_is_nearer;
  return out;
}

template <typename M>
std::vector<std::uint8_t> bytes_of(const M& m) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(m.size()) * sizeof(typename M::Scalar));
  if (!bytes.empty()) std::memcpy(bytes.data(), m.data(), bytes.size());
  return bytes;
}

void check_input(const char* what, std::int64_t dim, const Eigen::Ref<const Mat>& z) {
  if (z.cols() != dim) {
    throw std::invalid_argument(std::string(what) + ": vectors have " + std::to_string(z.cols()) +
                                " columns, the index holds D = " + std::to_string(dim));
  }
  for (Eigen::Index n = 0; n < z.rows(); ++n)
    if (!z.row(n).allFinite()) throw std::invalid_argument(std::string(what) + ": row " + std::to_string(n) + " is not finite");
}
}  // namespace

const char* code_kind_name(CodeKind kind) {
  const auto i = static_cast<std::uint32_t>(kind);
  return i < std::size(kKindNames) ? kKindNames[i] : "unknown";
}

std::vector<std::string> code_kind_names() { return {std::begin(kKindNames), std::end(kKindNames)}; }

CodeKind parse_code_kind(const std::string& name) {
  for (std::uint32_t i = 0; i < std::size(kKindNames); ++i)
    if (name == kKindNames[i]) return static_cast<CodeKind>(i);
  std::string list;
  for (const char* k : kKindNames) list += (list.empty() ? "" : ", ") + std::string(k);
  throw std::invalid_argument("unknown code index kind \"" + name + "\" (expected one of " + list + ")");
}

const char* torus_head_name(TorusHead head) { return head == TorusHead::torusN ? "torusN" : "torusC"; }

std::int64_t CodeIndex::row_bytes_of(CodeKind kind, TorusHead head, std::int64_t dim) {
  const std::int64_t K = circles(head, dim);
  switch (kind) {
    case CodeKind::u8:
    case CodeKind::u8_dot: return K;
    case CodeKind::pq8_2:
    case CodeKind::cpq8_2: return kPqSubquantizers;
    case CodeKind::one_bit: return 8 * ((dim + 63) / 64);
    case CodeKind::float32: return 4 * 2 * K;
  }
  throw std::invalid_argument("CodeIndex: unknown kind " + std::to_string(static_cast<std::uint32_t>(kind)));
}

// Search dereferences the kind's quantiser, so its presence and shape are checked here, once.
CodeIndex::CodeIndex(CodeKind kind, TorusHead head, std::int64_t dim, CodeQuantizer quantizer)
    : kind_(kind), head_(head), dim_(dim), quantizer_(std::move(quantizer)) {
  const std::int64_t K = circles(head, dim);
  const auto pq_fits = [&](const auto& pq) {
    return pq && pq->dim() == K && pq->subquantizers() == kPqSubquantizers && pq->bits() == kPqBits;
  };
  const bool fits = kind == CodeKind::pq8_2 ? pq_fits(quantizer_.pq)
                    : kind == CodeKind::cpq8_2 ? pq_fits(quantizer_.cpq)
                    : kind == CodeKind::one_bit ? quantizer_.grid && quantizer_.grid->dim() == dim && quantizer_.grid->bits() == 1
                                                : true;
  if (!fits || dim < 1 || (head == TorusHead::torusN && dim % 2)) {
    throw std::invalid_argument(std::string("CodeIndex: a ") + code_kind_name(kind) + " index of " + torus_head_name(head) +
                                " D = " + std::to_string(dim) + " needs " +
                                (kind == CodeKind::pq8_2 || kind == CodeKind::cpq8_2 ? "2 sub-quantisers of 8 bits over its K circles"
                                 : kind == CodeKind::one_bit ? "a 1-bit grid of D dimensions"
                                                             : "D >= 1, even for torusN"));
  }
}

CodeIndex::CodeIndex(CodeKind kind, TorusHead head, std::int64_t dim, CodeQuantizer quantizer, BorrowedCodes borrowed)
    : CodeIndex(kind, head, dim, std::move(quantizer)) {
  keeper_ = std::move(borrowed.keeper);
  codes_ = borrowed.codes;
  ids_ = borrowed.ids;
  size_ = borrowed.size;
}

bool CodeIndex::larger_is_nearer() const {
  return kind_ == CodeKind::u8 || kind_ == CodeKind::u8_dot || kind_ == CodeKind::float32;
}

CodeIndex CodeIndex::part(std::int64_t first, std::int64_t count) const {
  if (first < 0 || count < 1 || first > size_ - count)
    throw std::invalid_argument("CodeIndex::part: rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                                ") of an index of " + std::to_string(size_) + " vectors");
  // Owned storage is kept alive by this index (the caller's promise), a mapping by the shared keeper.
  BorrowedCodes rows{codes_ + first * row_bytes(), ids_ + first, count,
                     keeper_ ? keeper_ : std::shared_ptr<const void>(codes_, [](const void*) {})};
  return CodeIndex(kind_, head_, dim_, quantizer_, std::move(rows));
}

CodeIndex CodeIndex::build(CodeKind kind, TorusHead head, const Eigen::Ref<const RowMatrix<float>>& z, int threads) {
  const std::int64_t D = z.cols();
  if (z.rows() == 0 || D == 0) throw std::invalid_argument("CodeIndex::build: no vectors, got " + shape_string(z.rows(), D));
  if (head == TorusHead::torusN && D % 2)
    throw std::invalid_argument("CodeIndex::build: torusN needs an even D (pairs), got " + std::to_string(D));
  if (threads < 1) throw std::invalid_argument("CodeIndex::build: threads must be >= 1, got " + std::to_string(threads));
  check_input("CodeIndex::build", D, z);
  CodeQuantizer q;
  KMeansOptions km;
  km.threads = threads;
  // Fitted as the table fits them: PQ on the references' 8-bit space, circular PQ on their
  // angles, the 1-bit grid on their one-bit space.
  if (kind == CodeKind::pq8_2) q.pq = ProductQuantizer::train(eight_bit_space(torus_codes(head, z)), kPqSubquantizers, kPqBits, km);
  if (kind == CodeKind::cpq8_2) q.cpq = CircularProductQuantizer::train(angles(head, z), kPqSubquantizers, kPqBits, km);
  if (kind == CodeKind::one_bit) q.grid = GridQuantizer::fit<float>(one_bit_space(head, z), 1);
  CodeIndex index(kind, head, D, std::move(q));
  index.add(z);
  return index;
}

std::vector<std::uint8_t> CodeIndex::encode(const Eigen::Ref<const RowMatrix<float>>& z, int threads) const {
  switch (kind_) {
    case CodeKind::u8:
    case CodeKind::u8_dot: return bytes_of(torus_codes(head_, z));
    case CodeKind::pq8_2: return bytes_of(quantizer_.pq->encode(eight_bit_space(torus_codes(head_, z)), threads));
    case CodeKind::cpq8_2: return bytes_of(quantizer_.cpq->encode(angles(head_, z), threads));
    case CodeKind::one_bit: return bytes_of(one_bit_codes<float>(*quantizer_.grid, one_bit_space(head_, z)));
    case CodeKind::float32: return bytes_of(clifford_project<float>(angles(head_, z)));
  }
  throw std::invalid_argument("CodeIndex: unknown kind");
}

// Moves borrowed vectors into owned storage, so add never writes through a read-only mapping.
void CodeIndex::own_storage() {
  if (codes_ == nullptr || codes_ == reinterpret_cast<const std::uint8_t*>(owned_codes_.data())) return;
  const std::size_t code_bytes = static_cast<std::size_t>(size_ * row_bytes());
  std::vector<std::uint64_t> codes((code_bytes + 7) / 8);
  if (code_bytes) std::memcpy(codes.data(), codes_, code_bytes);
  std::vector<std::int64_t> ids(ids_, ids_ + size_);
  owned_codes_ = std::move(codes);
  owned_ids_ = std::move(ids);
  keeper_.reset();
  codes_ = reinterpret_cast<const std::uint8_t*>(owned_codes_.data());
  ids_ = owned_ids_.data();
}

void CodeIndex::append(const std::vector<std::uint8_t>& codes, std::int64_t rows) {
  own_storage();
  // Ids continue after the last one stored; a build starts at 0.
  const std::int64_t last_id = size_ == 0 ? 0 : ids_[size_ - 1];
  if (size_ > 0 && last_id > std::numeric_limits<std::int64_t>::max() - rows)
    throw std::invalid_argument("CodeIndex::add: ids would pass INT64_MAX after the last id " + std::to_string(last_id));
  const std::size_t old_bytes = static_cast<std::size_t>(size_ * row_bytes());
  owned_codes_.resize((old_bytes + codes.size() + 7) / 8);
  std::memcpy(reinterpret_cast<std::uint8_t*>(owned_codes_.data()) + old_bytes, codes.data(), codes.size());
  for (std::int64_t n = 0; n < rows; ++n) owned_ids_.push_back(size_ == 0 ? n : last_id + 1 + n);
  size_ += rows;
  codes_ = reinterpret_cast<const std::uint8_t*>(owned_codes_.data());
  ids_ = owned_ids_.data();
}

void CodeIndex::add(const Eigen::Ref<const RowMatrix<float>>& z) {
  check_input("CodeIndex::add", dim_, z);
  if (z.rows() == 0) return;
  append(encode(z, 1), z.rows());
}

CodeSearchResult CodeIndex::search(const Eigen::Ref<const RowMatrix<float>>& queries, int k, int threads) const {
  check_input("CodeIndex::search", dim_, queries);
  const Eigen::Index N = size_, W = row_bytes();
  // The stored codes used in place: a row-major map of the owned words or the file mapping.
  const auto bytes = [&] { return Eigen::Map<const CodeMatrix>(codes_, N, W); };
  const CosineLut lut(kLutAmplitude);
  switch (kind_) {
    case CodeKind::u8:
      return converted(knn_cosine_lut(torus_codes(head_, queries), bytes(), lut, k, threads), ids_, larger_is_nearer());
    case CodeKind::u8_dot:
      return converted(knn_cosine_dot(torus_codes(head_, queries), bytes(), lut, k, threads), ids_, larger_is_nearer());
    case CodeKind::pq8_2:
      return converted(knn_pq(*quantizer_.pq, eight_bit_space(torus_codes(head_, queries)), bytes(), k, threads), ids_, larger_is_nearer());
    case CodeKind::cpq8_2:
      return converted(knn_circular_pq(*quantizer_.cpq, angles(head_, queries), bytes(), k, threads), ids_, larger_is_nearer());
    case CodeKind::one_bit: {
      const Eigen::Map<const BitCodeMatrix> words(reinterpret_cast<const std::uint64_t*>(codes_), N, W / 8);
      return converted(knn_hamming(one_bit_codes<float>(*quantizer_.grid, one_bit_space(head_, queries)), words, k, threads),
                       ids_, larger_is_nearer());
    }
    case CodeKind::float32: {
      const Eigen::Map<const Mat> refs(reinterpret_cast<const float*>(codes_), N, W / 4);
      return converted(knn_inner_product(clifford_project<float>(angles(head_, queries)), refs, k, threads), ids_, larger_is_nearer());
    }
  }
  throw std::invalid_argument("CodeIndex: unknown kind");
}

}  // namespace torus::geometry
