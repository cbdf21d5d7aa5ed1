#include "train/eval/few_shot.hpp"

#include "datasets/shuffle.hpp"

#include <cmath>
#include <map>
#include <random>
#include <stdexcept>
#include <string>

namespace torus::eval {


FewShotResult few_shot_accuracy(const RowMatrix& x, const std::vector<int>& labels, const FewShotOptions& o,
                                std::vector<FewShotEpisode>* trace) {
  if (int64_t(labels.size()) != x.rows()) throw std::invalid_argument("few_shot_accuracy: labels and rows differ in number");
  if (o.ways < 2 || o.shots < 1 || o.queries_per_class < 0 || o.episodes < 1)
    throw std::invalid_argument("few_shot_accuracy: needs ways >= 2, shots >= 1, queries >= 0, episodes >= 1");
  // With every non-support sample as a query, a class needs one query at least.
  const int needed = o.shots + std::max(o.queries_per_class, 1);
  std::map<int, std::vector<int64_t>> by_class;
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(int64_t(i));
  std::vector<std::vector<int64_t>> pools;
  for (auto& [label, members] : by_class)
    if (int64_t(members.size()) >= needed) pools.push_back(members);
  if (int(pools.size()) < o.ways)
    throw std::invalid_argument("few_shot_accuracy: " + std::to_string(pools.size()) + " classes have at least " +
                                std::to_string(needed) + " samples; " + std::to_string(o.ways) + "-way episodes need " +
                                std::to_string(o.ways));
  // The bioacoustic protocol works on unit vectors (a zero row stays zero).
  RowMatrix unit;
  if (o.centre_on_support) {
    unit = x;
    for (Eigen::Index r = 0; r < unit.rows(); ++r)
      if (const float n = unit.row(r).norm(); n > 0) unit.row(r) /= n;
  }
  const RowMatrix& v = o.centre_on_support ? unit : x;
  std::mt19937_64 rng(o.seed);
  std::vector<int64_t> class_ids(pools.size());
  for (size_t c = 0; c < pools.size(); ++c) class_ids[c] = int64_t(c);
  RowMatrix prototypes(o.ways, x.cols());
  Eigen::RowVectorXf centre(x.cols());
  std::vector<double> accuracy;
  accuracy.reserve(size_t(o.episodes));
  for (int e = 0; e < o.episodes; ++e) {
    datasets::shuffle_front(class_ids, o.ways, rng);
    FewShotEpisode episode;
    std::vector<int64_t> queries;
    std::vector<int> truth;
    for (int w = 0; w < o.ways; ++w) {
      auto& pool = pools[size_t(class_ids[size_t(w)])];
      const int64_t q_count = o.queries_per_class > 0 ? o.queries_per_class : int64_t(pool.size()) - o.shots;
      datasets::shuffle_front(pool, size_t(o.shots + q_count), rng);
      episode.support.emplace_back(pool.begin(), pool.begin() + o.shots);
      episode.queries.emplace_back(pool.begin() + o.shots, pool.begin() + o.shots + q_count);
      for (int64_t i : episode.queries.back()) {
        queries.push_back(i);
        truth.push_back(w);
      }
    }
    // The support mean of the episode, subtracted from everything (zero without the protocol).
    centre.setZero();
    if (o.centre_on_support) {
      for (const auto& s : episode.support)
        for (int64_t i : s) centre += v.row(i);
      centre /= float(o.ways * o.shots);
    }
    for (int w = 0; w < o.ways; ++w) {
      prototypes.row(w).setZero();
      for (int64_t i : episode.support[size_t(w)]) prototypes.row(w) += v.row(i) - centre;
      prototypes.row(w) /= float(o.shots);
    }
    int correct = 0;
    for (size_t q = 0; q < queries.size(); ++q) {
      int best = 0;
      float best_d = INFINITY;
      for (int w = 0; w < o.ways; ++w) {
        const float d = (v.row(queries[q]) - centre - prototypes.row(w)).squaredNorm();
        if (d < best_d) best_d = d, best = w;
      }
      correct += best == truth[q];
    }
    accuracy.push_back(double(correct) / double(queries.size()));
    if (trace) {
      episode.accuracy = accuracy.back();
      trace->push_back(std::move(episode));
    }
  }
  FewShotResult r;
  r.ways = o.ways;
  r.shots = o.shots;
  r.episodes = o.episodes;
  for (double a : accuracy) r.mean += a;
  r.mean /= double(accuracy.size());
  for (double a : accuracy) r.std_dev += (a - r.mean) * (a - r.mean);
  r.std_dev = std::sqrt(r.std_dev / double(accuracy.size()));
  r.ci95 = 1.96 * r.std_dev / std::sqrt(double(accuracy.size()));
  return r;
}

}  // namespace torus::eval
