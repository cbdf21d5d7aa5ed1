#include "train/eval/measures.hpp"

#include "geometry/circular_stats.hpp"
#include "geometry/code_stats.hpp"
#include "train/elapsed.hpp"
#include "train/eval/evaluated_space.hpp"

#include <cmath>
#include <set>
#include <stdexcept>

namespace torus::eval {

namespace {
int ways_for(const MeasureOptions& o, const std::vector<int>& query_labels) {
  const int ways = o.ways != 0 ? o.ways : std::min<int>(5, int(std::set<int>(query_labels.begin(), query_labels.end()).size()));
  return std::max(ways, 2);
}

FewShotMeasure few_shot_measure(const RowMatrix& eq, const std::vector<int>& labels, int ways, int shots,
                                const MeasureOptions& o) {
  FewShotOptions f;
  f.ways = ways, f.shots = shots, f.queries_per_class = o.queries_per_class, f.episodes = o.episodes, f.seed = o.seed;
  f.centre_on_support = o.centre_on_support;
  FewShotMeasure m;
  m.shots = shots;
  try {
    m.result = few_shot_accuracy(eq, labels, f);
    m.measured = true;
  } catch (const std::invalid_argument& e) {
    m.skipped = e.what();
  }
  return m;
}
}  // namespace

Measures measure_embeddings(const EvaluationSet& set, nn::HeadMode mode, const MeasureOptions& o) {
  const LabelledEmbeddings &q = set.queries, &r = set.references;
  Measures m;
  m.queries = q.x.rows(), m.references = r.x.rows(), m.dim = q.x.cols();
  m.ways = ways_for(o, q.labels);
  const auto t0 = std::chrono::steady_clock::now();
  const RowMatrix eq = evaluated_space(q.x, mode), er = evaluated_space(r.x, mode);
  m.precision_at_1 = precision_at_1(eq, q.labels, er, r.labels, o.threads);
  m.search_seconds = train::seconds_since(t0);
  RowMatrix all(eq.rows() + er.rows(), eq.cols());
  all << eq, er;
  m.circular_variance = geometry::circular_variance_rows<float>(all);
  const auto counts = geometry::distinct_row_counts<float>(all);
  m.rows = all.rows();
  m.distinct_rows = int64_t(counts.size());
  m.entropy_nats = geometry::shannon_entropy_nats(counts, all.rows(), 0);
  m.max_entropy_nats = std::log(double(all.rows()));
  for (int shots : {1, 5}) m.few_shot.push_back(few_shot_measure(eq, q.labels, m.ways, shots, o));
  return m;
}

}  // namespace torus::eval
