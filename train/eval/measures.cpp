#include "train/eval/measures.hpp"

#include "geometry/circular_stats.hpp"
#include "geometry/code_stats.hpp"
#include "geometry/code_search.hpp"
#include "geometry/two_stage_search.hpp"
#include "geometry/uint8_codes.hpp"
#include "nn/matryoshka.hpp"
#include "train/elapsed.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/eval/sharded_search.hpp"

#include <cmath>
#include <set>
#include <stdexcept>

namespace torus::eval {

namespace {
int ways_for(const MeasureOptions& o, const std::vector<int>& query_labels) {
  const int ways = o.ways != 0 ? o.ways : std::min<int>(5, int(std::set<int>(query_labels.begin(), query_labels.end()).size()));
  return std::max(ways, 2);
}

// `codes` (may be null): the episodes on uint8 codes instead of eq.
FewShotMeasure few_shot_measure(const RowMatrix& eq, const geometry::CodeMatrix* codes, const std::vector<int>& labels,
                                int ways, int shots, const MeasureOptions& o) {
  FewShotOptions f;
  f.ways = ways, f.shots = shots, f.queries_per_class = o.queries_per_class, f.episodes = o.episodes, f.seed = o.seed;
  f.centre_on_support = o.centre_on_support;
  FewShotMeasure m;
  m.shots = shots;
  try {
    m.result = codes ? few_shot_accuracy_codes(*codes, labels, f) : few_shot_accuracy(eq, labels, f);
    m.measured = true;
  } catch (const std::invalid_argument& e) {
    m.skipped = e.what();
  }
  return m;
}
// The fraction of queries whose nearest reference shares their label: by inner product in the
// evaluated space, or (codes) by circular L1 on uint8 codes, the search spread over the ranks.
double sharded_precision_at_1(const dist::Communicator& world, const RowMatrix& q, const std::vector<int>& query_labels,
                              const RowMatrix& r, const std::vector<int>& reference_labels, int threads) {
  if (world.size() == 1) return precision_at_1(q, query_labels, r, reference_labels, threads);
  const std::vector<int64_t> nearest = sharded_nearest<float>(world, q.rows(), r.rows(), true, [&](int64_t first, int64_t count) {
    return geometry::knn_inner_product(q, r.middleRows(first, count), 1, threads);
  });
  return label_match_rate(Eigen::Map<const geometry::RowMatrix<int64_t>>(nearest.data(), q.rows(), 1), query_labels,
                          reference_labels);
}

double sharded_code_precision_at_1(const dist::Communicator& world, const geometry::CodeMatrix& q, const std::vector<int>& query_labels,
                                   const geometry::CodeMatrix& r, const std::vector<int>& reference_labels, int threads) {
  const std::vector<int64_t> nearest = sharded_nearest<std::int32_t>(world, q.rows(), r.rows(), false, [&](int64_t first, int64_t count) {
    return geometry::knn_circular_l1(q, r.middleRows(first, count), 1, threads);
  });
  return label_match_rate(Eigen::Map<const geometry::RowMatrix<int64_t>>(nearest.data(), q.rows(), 1), query_labels,
                          reference_labels);
}
}  // namespace

Measures measure_embeddings(const EvaluationSet& set, nn::HeadMode mode, const MeasureOptions& o) {
  const LabelledEmbeddings &q = set.queries, &r = set.references;
  const LabelledEmbeddings& fs = set.has_few_shot() ? set.few_shot : q;
  Measures m;
  m.queries = q.x.rows(), m.references = r.x.rows(), m.dim = r.x.cols();
  m.has_precision = set.has_queries();
  m.few_shot_set = set.has_few_shot() ? "few-shot split" : "queries";
  m.few_shot_rows = fs.x.rows();
  m.ways = ways_for(o, fs.labels);
  const dist::SingleProcess alone;
  const dist::Communicator& world = o.world ? *o.world : alone;
  const auto t0 = std::chrono::steady_clock::now();
  const RowMatrix eq = evaluated_space(q.x, mode), er = evaluated_space(r.x, mode);
  if (m.has_precision) m.precision_at_1 = sharded_precision_at_1(world, eq, q.labels, er, r.labels, o.threads);
  m.search_seconds = train::seconds_since(t0);
  const RowMatrix ef = set.has_few_shot() ? evaluated_space(fs.x, mode) : RowMatrix();
  RowMatrix all(eq.rows() + er.rows() + ef.rows(), er.cols());
  all.topRows(eq.rows()) = eq;
  all.middleRows(eq.rows(), er.rows()) = er;
  all.bottomRows(ef.rows()) = ef;
  m.circular_variance = geometry::circular_variance_rows<float>(all);
  const auto counts = geometry::distinct_row_counts<float>(all);
  m.rows = all.rows();
  m.distinct_rows = int64_t(counts.size());
  m.entropy_nats = geometry::shannon_entropy_nats(counts, all.rows(), 0);
  m.max_entropy_nats = std::log(double(all.rows()));
  if (!o.prefixes.empty()) {
    if (!m.has_precision) throw std::invalid_argument("prefix precision@1 needs queries (a test split)");
    const int64_t circles = nn::head_circles(mode, m.dim);  // throws for the heads without circles
    const RowMatrix uq = torus_angles(q.x, mode), ur = torus_angles(r.x, mode);
    // The full codes' one-stage search, which the two-stage search is measured against.
    const geometry::CodeMatrix cq_full = geometry::encode_angles<float>(uq), cr_full = geometry::encode_angles<float>(ur);
    geometry::KnnResult<std::int32_t> full;
    double full_seconds = 0;
    const int shortlist = int(std::min<int64_t>(o.shortlist, r.x.rows()));
    if (shortlist > 0) {
      const auto t_full = std::chrono::steady_clock::now();
      full = geometry::knn_circular_l1(cq_full, cr_full, 1, o.threads);
      full_seconds = train::seconds_since(t_full);
    }
    for (const int64_t k : o.prefixes) {
      if (k < 1 || k > circles)
        throw std::invalid_argument("prefix of " + std::to_string(k) + " circles, expected 1 to " + std::to_string(circles));
      const int64_t columns = mode == nn::HeadMode::torusN ? 2 * k : k;
      PrefixPrecision p;
      p.circles = k;
      p.float_precision_at_1 = sharded_precision_at_1(world, evaluated_space(q.x.leftCols(columns), mode), q.labels,
                                                      evaluated_space(r.x.leftCols(columns), mode), r.labels, o.threads);
      const geometry::CodeMatrix cq = geometry::encode_angles<float>(uq.leftCols(k)), cr = geometry::encode_angles<float>(ur.leftCols(k));
      p.code_precision_at_1 = sharded_code_precision_at_1(world, cq, q.labels, cr, r.labels, o.threads);
      if (shortlist > 0 && k < circles) {
        const auto t0_two = std::chrono::steady_clock::now();
        const geometry::KnnResult<std::int32_t> two = geometry::knn_two_stage_l1(cq_full, cr_full, int(k), shortlist, 1, o.threads);
        const double seconds = train::seconds_since(t0_two);
        int64_t found = 0;
        for (Eigen::Index i = 0; i < two.scores.rows(); ++i) found += two.scores(i, 0) == full.scores(i, 0);
        p.two_stage = true;
        p.shortlist = shortlist;
        p.two_stage_precision_at_1 = label_match_rate(two.indices, q.labels, r.labels);
        p.two_stage_recall_at_1 = double(found) / double(two.scores.rows());
        p.two_stage_queries_per_s = double(q.x.rows()) / std::max(seconds, 1e-9);
        p.full_code_queries_per_s = double(q.x.rows()) / std::max(full_seconds, 1e-9);
      }
      m.prefixes.push_back(p);
    }
  }
  const RowMatrix& few = set.has_few_shot() ? ef : eq;
  for (int shots : {1, 5}) m.few_shot.push_back(few_shot_measure(few, nullptr, fs.labels, m.ways, shots, o));
  if (mode == nn::HeadMode::torusN || mode == nn::HeadMode::torusC) {
    const geometry::CodeMatrix codes = geometry::encode_angles<float>(torus_angles(fs.x, mode));
    for (int shots : {1, 5}) m.few_shot_codes.push_back(few_shot_measure(few, &codes, fs.labels, m.ways, shots, o));
  }
  return m;
}

}  // namespace torus::eval
