#include "train/eval/few_shot.hpp"

#include "datasets/shuffle.hpp"
#include "geometry/uint8_codes.hpp"

#include <array>
#include <cstdint>

#include <cmath>
#include <map>
#include <random>
#include <stdexcept>
#include <string>

namespace torus::eval {


namespace {
// The episodes of `o` over `labels`: which classes, supports and queries. The draws depend on the
// labels and the seed only, so the float and the code versions see the same episodes.
std::vector<FewShotEpisode> draw_episodes(const std::vector<int>& labels, const FewShotOptions& o) {
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
  std::mt19937_64 rng(o.seed);
  std::vector<int64_t> class_ids(pools.size());
  for (size_t c = 0; c < pools.size(); ++c) class_ids[c] = int64_t(c);
  std::vector<FewShotEpisode> episodes(size_t(o.episodes));
  for (FewShotEpisode& episode : episodes) {
    datasets::shuffle_front(class_ids, o.ways, rng);
    for (int w = 0; w < o.ways; ++w) {
      auto& pool = pools[size_t(class_ids[size_t(w)])];
      const int64_t q_count = o.queries_per_class > 0 ? o.queries_per_class : int64_t(pool.size()) - o.shots;
      datasets::shuffle_front(pool, size_t(o.shots + q_count), rng);
      episode.support.emplace_back(pool.begin(), pool.begin() + o.shots);
      episode.queries.emplace_back(pool.begin() + o.shots, pool.begin() + o.shots + q_count);
    }
  }
  return episodes;
}

// The fraction of the episode's queries whose nearest prototype (the least distance(q, way); the
// first on a tie) is their own way's.
template <class Distance>
double nearest_prototype_accuracy(const FewShotEpisode& episode, int ways, Distance distance) {
  int64_t correct = 0, total = 0;
  for (int truth = 0; truth < ways; ++truth)
    for (int64_t q : episode.queries[size_t(truth)]) {
      int best = 0;
      auto best_d = distance(q, 0);
      for (int w = 1; w < ways; ++w)
        if (const auto d = distance(q, w); d < best_d) best_d = d, best = w;
      correct += best == truth;
      ++total;
    }
  return double(correct) / double(total);
}

// Runs classify(episode) on every episode (it sets the episode's accuracy) and summarises them.
template <class Classify>
FewShotResult run_episodes(std::vector<FewShotEpisode>& episodes, const FewShotOptions& o, Classify classify,
                           std::vector<FewShotEpisode>* trace) {
  FewShotResult r;
  r.ways = o.ways;
  r.shots = o.shots;
  r.episodes = o.episodes;
  for (FewShotEpisode& e : episodes) {
    classify(e);
    r.mean += e.accuracy;
  }
  r.mean /= double(episodes.size());
  for (const FewShotEpisode& e : episodes) r.std_dev += (e.accuracy - r.mean) * (e.accuracy - r.mean);
  r.std_dev = std::sqrt(r.std_dev / double(episodes.size()));
  r.ci95 = 1.96 * r.std_dev / std::sqrt(double(episodes.size()));
  if (trace) *trace = std::move(episodes);
  return r;
}
}  // namespace

FewShotResult few_shot_accuracy(const RowMatrix& x, const std::vector<int>& labels, const FewShotOptions& o,
                                std::vector<FewShotEpisode>* trace) {
  if (int64_t(labels.size()) != x.rows()) throw std::invalid_argument("few_shot_accuracy: labels and rows differ in number");
  std::vector<FewShotEpisode> episodes = draw_episodes(labels, o);
  // The bioacoustic protocol works on unit vectors (a zero row stays zero).
  RowMatrix unit;
  if (o.centre_on_support) {
    unit = x;
    for (Eigen::Index r = 0; r < unit.rows(); ++r)
      if (const float n = unit.row(r).norm(); n > 0) unit.row(r) /= n;
  }
  const RowMatrix& v = o.centre_on_support ? unit : x;
  RowMatrix prototypes(o.ways, x.cols());
  Eigen::RowVectorXf centre(x.cols());
  return run_episodes(episodes, o, [&](FewShotEpisode& episode) {
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
    episode.accuracy = nearest_prototype_accuracy(episode, o.ways, [&](int64_t q, int w) {
      return (v.row(q) - centre - prototypes.row(w)).squaredNorm();
    });
  }, trace);
}

FewShotResult few_shot_accuracy_codes(const geometry::CodeMatrix& codes, const std::vector<int>& labels,
                                      const FewShotOptions& o, std::vector<FewShotEpisode>* trace) {
  if (int64_t(labels.size()) != codes.rows())
    throw std::invalid_argument("few_shot_accuracy_codes: labels and rows differ in number");
  std::vector<FewShotEpisode> episodes = draw_episodes(labels, o);
  const int K = int(codes.cols());
  // sin and cos of every code's angle, for the circular means.
  std::array<double, 256> cos_of{}, sin_of{};
  for (int q = 0; q < 256; ++q) cos_of[size_t(q)] = std::cos(2 * M_PI * q / 256), sin_of[size_t(q)] = std::sin(2 * M_PI * q / 256);
  geometry::CodeMatrix prototypes(o.ways, K);
  return run_episodes(episodes, o, [&](FewShotEpisode& episode) {
    // Each circle's prototype is the circular mean of the support codes, rounded to a code. (The
    // protocol's support centring is a rotation of every circle, which leaves circular distances
    // unchanged, so it is not applied.)
    for (int w = 0; w < o.ways; ++w)
      for (int k = 0; k < K; ++k) {
        double c = 0, s = 0;
        for (int64_t i : episode.support[size_t(w)]) c += cos_of[codes(i, k)], s += sin_of[codes(i, k)];
        const double turns = std::atan2(s, c) / (2 * M_PI);
        prototypes(w, k) = uint8_t(int64_t(std::floor(turns * 256 + 0.5)) & 255);
      }
    episode.accuracy = nearest_prototype_accuracy(episode, o.ways, [&](int64_t q, int w) {
      return geometry::circular_l1(&codes(q, 0), &prototypes(w, 0), K);
    });
  }, trace);
}

}  // namespace torus::eval
