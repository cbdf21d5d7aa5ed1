#include "train/eval/quant_table.hpp"

#include "train/eval/sharded_search.hpp"

#include "geometry/circular_pq.hpp"
#include "geometry/circular_stats.hpp"
#include "geometry/code_search.hpp"
#include "geometry/code_stats.hpp"
#include "geometry/float16.hpp"
#include "geometry/grid_quantizer.hpp"
#include "geometry/one_bit_codes.hpp"
#include "geometry/product_quantizer.hpp"
#include "train/elapsed.hpp"
#include "train/eval/evaluated_space.hpp"

#include <stdexcept>

namespace torus::eval {

namespace {
using geometry::CodeMatrix;
using Mat = RowMatrix;

template <typename M>
M stack(const M& a, const M& b) {
  M s(a.rows() + b.rows(), a.cols());
  s << a, b;
  return s;
}

// L2 nearest neighbour as an inner product: [a, 1] . [b, -|b|^2 / 2] = a.b - |b|^2 / 2.
std::pair<Mat, Mat> l2_as_inner_product(const Mat& q, const Mat& r) {
  Mat qa(q.rows(), q.cols() + 1), ra(r.rows(), r.cols() + 1);
  qa << q, Mat::Ones(q.rows(), 1);
  ra << r, (-0.5f * r.rowwise().squaredNorm()).eval();
  return {qa, ra};
}

// Grid codes as bytes (q mod 256): for the torus the wrap is exact; for a sphere a code of -1
// (below the training minimum) counts as 255 here, which only matters for distinct counts.
CodeMatrix low_bytes(const geometry::RowMatrix<int32_t>& q) { return q.unaryExpr([](int32_t v) { return uint8_t(v & 255); }); }

// Seconds taken by search(), which stores its result.
template <typename F>
double seconds_of(F&& search) {
  const auto t0 = std::chrono::steady_clock::now();
  search();
  return train::seconds_since(t0);
}

// One table, built row by row in the order the header lists.
class TableBuilder {
 public:
  TableBuilder(const EvaluationSet& set, nn::HeadMode mode, int threads, std::FILE* log, const dist::Communicator& world)
      : Q_(set.queries), R_(set.references), mode_(mode), torus_(mode != nn::HeadMode::sphere), threads_(threads), world_(world),
        log_(log), uq_(quantisation_space(Q_.x, mode)), ur_(quantisation_space(R_.x, mode)), dims_(uq_.cols()),
        N_(Q_.x.rows() + R_.x.rows()) {}

  void float_rows();
  void grid8_row();
  void one_bit_row();
  void product_quantiser_rows();
  void torus_code_rows();
  std::vector<QuantRow> rows;

 private:
  Mat evaluated(const Mat& u) const { return evaluated_space_of_quantised(u, mode_); }
  double circvar(const Mat& uq, const Mat& ur) const {
    return double(geometry::circular_variance_rows<float>(stack(evaluated(uq), evaluated(ur))));
  }
  // distinct codes and their entropy (method.md 8: padded to min(N, 2^bits) possible values)
  void code_stats(QuantRow& r, const CodeMatrix& codes, int bits) const {
    const auto counts = geometry::distinct_row_counts(codes);
    r.distinct = int64_t(counts.size());
    r.entropy_nats = geometry::shannon_entropy_nats(counts, N_, bits);
  }
  // r.queries_per_s arrives holding the search's seconds.
  void add(QuantRow r) {
    r.queries_per_s = r.queries_per_s > 0 ? double(Q_.x.rows()) / r.queries_per_s : 0;
    rows.push_back(r);
    if (log_) std::fprintf(log_, "  %-9s done\n", r.mode.c_str());
  }
  template <typename Knn>
  double precision(const Knn& knn) const { return label_match_rate(knn.indices, Q_.labels, R_.labels); }
  // Each query's nearest reference, the search spread over the ranks: search(first, count) is the
  // single-process top-1 search against references [first, first + count) (sharded_search.hpp).
  template <typename S, typename Search>
  geometry::KnnResult<S> nearest(bool larger_is_nearer, Search&& search) const {
    const std::vector<int64_t> ids = sharded_nearest<S>(world_, Q_.x.rows(), R_.x.rows(), larger_is_nearer,
                                                        std::function<geometry::KnnResult<S>(int64_t, int64_t)>(search));
    geometry::KnnResult<S> out;
    out.indices = Eigen::Map<const geometry::RowMatrix<int64_t>>(ids.data(), Q_.x.rows(), 1);
    return out;
  }
  void inner_product_row(const std::string& name, int bits, const Mat& eq, const Mat& er, const Mat& uq, const Mat& ur,
                         const CodeMatrix* codes, int code_bits);
  template <typename Train, typename Search>
  void pq_rows(const std::string& prefix, const Mat& rs, const Mat& qs, Train train, Search search, float to_unit);
  CodeMatrix torus_codes(const Mat& z) const {
    return mode_ == nn::HeadMode::torusN ? geometry::torusN_codes<float>(z) : geometry::torusC_codes<float>(z);
  }

  const LabelledEmbeddings &Q_, &R_;
  const nn::HeadMode mode_;
  const bool torus_;
  const int threads_;
  const dist::Communicator& world_;
  std::FILE* const log_;
  const Mat uq_, ur_;     // the quantisation space: angles (torus) or z (sphere)
  const int64_t dims_;    // K circles, or D sphere coordinates
  const int64_t N_;       // queries and references
  geometry::RowMatrix<int32_t> gq_, gr_;  // the 8-bit grid codes (grid8_row)
};

void TableBuilder::inner_product_row(const std::string& name, int bits, const Mat& eq, const Mat& er, const Mat& uq,
                                     const Mat& ur, const CodeMatrix* codes, int code_bits) {
  geometry::KnnResult<float> knn;
  QuantRow r{name, bits};
  r.queries_per_s = seconds_of([&] {
    knn = nearest<float>(true, [&](int64_t f, int64_t c) { return geometry::knn_inner_product(eq, er.middleRows(f, c), 1, threads_); });
  });
  r.precision_at_1 = precision(knn);
  r.circular_variance = circvar(uq, ur);
  if (codes) {
    code_stats(r, *codes, code_bits);
  } else {
    const auto counts = geometry::distinct_row_counts<float>(stack(uq, ur));
    r.distinct = int64_t(counts.size());
    r.entropy_nats = geometry::shannon_entropy_nats(counts, N_, 0);
  }
  add(r);
}

// none and float16
void TableBuilder::float_rows() {
  const int64_t D = Q_.x.cols();
  inner_product_row("none", int(32 * D), evaluated(uq_), evaluated(ur_), uq_, ur_, nullptr, 0);
  const Mat hq = geometry::half_round_trip(Q_.x), hr = geometry::half_round_trip(R_.x);
  const Mat huq = quantisation_space(hq, mode_), hur = quantisation_space(hr, mode_);
  inner_product_row("float16", int(16 * D), evaluated(huq), evaluated(hur), huq, hur, nullptr, 0);
}

// 8bit grid on the quantisation space
void TableBuilder::grid8_row() {
  const geometry::GridQuantizer grid8 = geometry::GridQuantizer::fit<float>(ur_, 8);
  gq_ = grid8.encode<float>(uq_), gr_ = grid8.encode<float>(ur_);
  const Mat vq = grid8.values(gq_), vr = grid8.values(gr_);
  const CodeMatrix codes = stack(low_bytes(gq_), low_bytes(gr_));
  if (torus_) {
    inner_product_row("8bit", int(8 * dims_), evaluated(vq), evaluated(vr), vq, vr, &codes, int(8 * dims_));
  } else {
    const auto [aq, ar] = l2_as_inner_product(vq, vr);
    inner_product_row("8bit", int(8 * dims_), aq, ar, vq, vr, &codes, int(8 * dims_));
    rows.back().circular_variance = double(geometry::circular_variance_rows<float>(stack(vq, vr)));
  }
}

void TableBuilder::one_bit_row() {
  const auto space = [&](const Mat& z) -> Mat {
    return mode_ == nn::HeadMode::torusN   ? geometry::torusN_one_bit_space<float>(z)
           : mode_ == nn::HeadMode::torusC ? geometry::torusC_one_bit_space<float>(z)
                                           : z;
  };
  const Mat sq = space(Q_.x), sr = space(R_.x);
  const geometry::GridQuantizer grid1 = geometry::GridQuantizer::fit<float>(sr, 1);
  const auto bq = geometry::one_bit_codes<float>(grid1, sq), br = geometry::one_bit_codes<float>(grid1, sr);
  geometry::KnnResult<int32_t> knn;
  QuantRow r{"1bit", int(sq.cols())};
  r.queries_per_s = seconds_of([&] {
    knn = nearest<int32_t>(false, [&](int64_t f, int64_t c) { return geometry::knn_hamming(bq, br.middleRows(f, c), 1, threads_); });
  });
  r.precision_at_1 = precision(knn);
  const CodeMatrix bits = stack(geometry::unpack_bits(bq, sq.cols()), geometry::unpack_bits(br, sr.cols()));
  const Mat signs = bits.cast<float>().array() * 2 - 1;  // each bit as +-1: the code's own geometry
  r.circular_variance = double(geometry::circular_variance_rows<float>(signs));
  code_stats(r, bits, int(sq.cols()));
  add(r);
}

// One row per (bits, M) of a product quantiser trained on the references' `rs` and searched with
// the queries' own `qs` by asymmetric tables; `to_unit` maps decoded rows to [0, 1).
template <typename Train, typename Search>
void TableBuilder::pq_rows(const std::string& prefix, const Mat& rs, const Mat& qs, Train train, Search search,
                           float to_unit) {
  for (auto [bits, M] : {std::pair{8, 2}, {8, 1}, {4, 4}, {4, 2}}) {
    const std::string name = prefix + std::to_string(bits) + "_" + std::to_string(M);
    if (dims_ % M) {
      if (log_)
        std::fprintf(log_, "  %-9s skipped: %d sub-quantisers do not divide %lld dimensions\n", name.c_str(), M,
                     static_cast<long long>(dims_));
      continue;
    }
    // k-means needs at least as many references as centroids (2^bits); with fewer, this row
    // cannot be built, the others still can.
    if (rs.rows() < (int64_t(1) << bits)) {
      if (log_)
        std::fprintf(log_, "  %-9s skipped: %lld references, fewer than its %d centroids\n", name.c_str(),
                     static_cast<long long>(rs.rows()), 1 << bits);
      continue;
    }
    const auto pq = train(rs, M, bits);
    const CodeMatrix pr = pq.encode(rs, threads_), pqq = pq.encode(qs, threads_);
    geometry::KnnResult<float> knn;
    QuantRow r{name, M * bits};
    r.queries_per_s = seconds_of([&] {
      knn = nearest<float>(false, [&](int64_t f, int64_t c) { return search(pq, qs, pr.middleRows(f, c)); });
    });
    r.precision_at_1 = precision(knn);
    // decoded back to [0, 1): angles for the torus, grid values for the sphere
    const Mat dq = pq.decode(pqq) * to_unit, dr = pq.decode(pr) * to_unit;
    r.circular_variance = torus_ ? circvar(dq, dr) : double(geometry::circular_variance_rows<float>(stack(dq, dr)));
    code_stats(r, stack(pqq, pr), M * bits);
    add(r);
  }
}

// product quantisation of the 8-bit space: the native uint8 torus codes, or the sphere's grid
void TableBuilder::product_quantiser_rows() {
  const Mat eq8 = torus_ ? geometry::eight_bit_space(torus_codes(Q_.x)) : geometry::eight_bit_space(gq_);
  const Mat er8 = torus_ ? geometry::eight_bit_space(torus_codes(R_.x)) : geometry::eight_bit_space(gr_);
  geometry::KMeansOptions km;
  km.threads = threads_;
  pq_rows(
      "pq", er8, eq8, [&](const Mat& x, int M, int bits) { return geometry::ProductQuantizer::train(x, M, bits, km); },
      [&](const auto& pq, const Mat& q, const Eigen::Ref<const CodeMatrix>& codes) { return geometry::knn_pq(pq, q, codes, 1, threads_); },
      1.0f / 256.0f);
}

// native uint8 torus codes: the cosine table, circular L1 and the cosine dot product; then the
// circular product quantiser of the angles
void TableBuilder::torus_code_rows() {
  const CodeMatrix cq = torus_codes(Q_.x), cr = torus_codes(R_.x);
  const geometry::CosineLut lut(127);
  const CodeMatrix all_codes = stack(cq, cr);
  const Mat dq = cq.cast<float>() / 256.0f, dr = cr.cast<float>() / 256.0f;
  for (const std::string name : {"u8-lut", "u8-l1", "u8-dot"}) {
    geometry::KnnResult<int32_t> knn;
    QuantRow r{name, int(8 * dims_)};
    r.queries_per_s = seconds_of([&] {
      knn = nearest<int32_t>(name != "u8-l1", [&](int64_t f, int64_t c) {
        return name == "u8-lut"  ? geometry::knn_cosine_lut(cq, cr.middleRows(f, c), lut, 1, threads_)
               : name == "u8-l1" ? geometry::knn_circular_l1(cq, cr.middleRows(f, c), 1, threads_)
                                 : geometry::knn_cosine_dot(cq, cr.middleRows(f, c), lut, 1, threads_);
      });
    });
    r.precision_at_1 = precision(knn);
    r.circular_variance = circvar(dq, dr);
    code_stats(r, all_codes, int(8 * dims_));
    add(r);
  }
  geometry::KMeansOptions km;
  km.threads = threads_;
  pq_rows(
      "cpq", ur_, uq_,
      [&](const Mat& x, int M, int bits) { return geometry::CircularProductQuantizer::train(x, M, bits, km); },
      [&](const auto& pq, const Mat& q, const Eigen::Ref<const CodeMatrix>& codes) {
        return geometry::knn_circular_pq(pq, q, codes, 1, threads_);
      },
      1.0f);
}
}  // namespace

std::vector<QuantRow> quantisation_table(const EvaluationSet& set, nn::HeadMode mode, int threads, std::FILE* log,
                                         const dist::Communicator* world) {
  const dist::SingleProcess alone;
  TableBuilder table(set, mode, threads, log, world ? *world : alone);  // quantisation_space refuses heads without a table
  table.float_rows();
  table.grid8_row();
  table.one_bit_row();
  table.product_quantiser_rows();
  if (mode != nn::HeadMode::sphere) table.torus_code_rows();
  return table.rows;
}

}  // namespace torus::eval
