#include "train/sweep/failure_criteria.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace torus::sweep {

namespace {
std::string number(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
}  // namespace

SupConBounds supcon_bounds(double temperature, double base_temperature, int64_t views, int64_t batch, int64_t classes,
                           double level_weight) {
  const double scale = temperature / base_temperature * level_weight;
  const double n = double(views) * double(batch);
  // Fewer anchors per class than one positive each (a batch smaller than the classes) leaves
  // one positive: the separated loss is then 0.
  const double positives = std::max(1.0, n / double(std::max<int64_t>(classes, 1)) - 1);
  return {scale * std::log(std::max(n - 1, 1.0)), scale * std::log(positives)};
}

std::vector<Failure> classify_cell(const CellEvidence& e, const FailureThresholds& t) {
  std::vector<Failure> failures;
  if (e.train_exit == 3)
    failures.push_back({"nonfinite", "torus-train stopped on a non-finite loss or gradient" +
                                         (e.train_message.empty() ? std::string() : ": " + e.train_message)});
  for (const EpochLoss& row : e.epochs)
    if (!std::isfinite(row.loss) || !std::isfinite(row.supcon)) {
      failures.push_back({"nonfinite", "metrics.csv epoch " + std::to_string(row.epoch) + " has a non-finite loss"});
      break;
    }
  const double range = e.bounds.chance - e.bounds.separated;
  if (!e.epochs.empty() && range > 0 && std::isfinite(e.epochs.back().supcon) && std::isfinite(e.epochs.front().supcon)) {
    const double first = e.epochs.front().supcon, last = e.epochs.back().supcon;
    const double progress = (e.bounds.chance - last) / range;
    if (last > first + t.divergence_rise * range)
      failures.push_back({"divergence", "SupCon rose from " + number(first) + " in the first epoch to " + number(last) +
                                            " in the last, more than " + number(t.divergence_rise, 2) +
                                            " of the range from the chance loss " + number(e.bounds.chance) +
                                            " to the separated loss " + number(e.bounds.separated)});
    else if (progress < t.stall_progress)
      failures.push_back({"stall", "SupCon " + number(last) + " in the last epoch, not below the chance loss " +
                                       number(e.bounds.chance) + " by " + number(t.stall_progress, 2) +
                                       " of the range to the separated loss " + number(e.bounds.separated) +
                                       " (got " + number(progress, 3) + ")"});
  }
  if (e.precision_at_1 && e.queries > 0) {
    const double p = e.chance_precision;
    const double margin = std::max(t.chance_margin, t.chance_sigmas * std::sqrt(p * (1 - p) / double(e.queries)));
    if (*e.precision_at_1 <= p + margin)
      failures.push_back({"collapse", "precision@1 " + number(*e.precision_at_1) + " within " + number(margin) +
                                          " of chance " + number(p) + " (" + std::to_string(e.classes) + " classes)"});
  }
  if (e.circular_variance && *e.circular_variance < t.min_circular_variance)
    failures.push_back({"collapse", "circular variance " + number(*e.circular_variance, 4) + " below " +
                                        number(t.min_circular_variance, 3) + ": the embeddings lie on nearly one direction"});
  if (e.code_distinct && e.classes > 0 && double(*e.code_distinct) < t.min_codes_per_class * double(e.classes))
    failures.push_back({"collapse", std::to_string(*e.code_distinct) + " distinct codes for " +
                                        std::to_string(e.classes) + " classes"});
  else if (e.code_entropy_nats && e.classes > 1 &&
           *e.code_entropy_nats < t.min_entropy_share_of_ln_classes * std::log(double(e.classes)))
    failures.push_back({"collapse", "8-bit code entropy " + number(*e.code_entropy_nats) + " nats, below " +
                                        number(t.min_entropy_share_of_ln_classes, 2) + " ln(" +
                                        std::to_string(e.classes) + ")"});
  return failures;
}

std::string describe_thresholds(const FailureThresholds& t) {
  return "nonfinite: torus-train exit 3 or a non-finite loss in metrics.csv; "
         "divergence: last-epoch SupCon above the first epoch's by more than " +
         number(t.divergence_rise, 2) +
         " of the range R from the chance loss (tau/base_tau) ln(N-1) to the separated loss (tau/base_tau) ln(N/classes-1), "
         "N = views x batch; stall: last-epoch SupCon not below the chance loss by " +
         number(t.stall_progress, 2) + " R; collapse: precision@1 within max(" + number(t.chance_margin, 2) + ", " +
         number(t.chance_sigmas, 0) + " binomial s.e.) of chance (the commonest query class's share), circular variance below " +
         number(t.min_circular_variance, 2) + ", fewer distinct codes (8-bit, else float rows) than classes, or 8-bit code entropy below " +
         number(t.min_entropy_share_of_ln_classes, 2) + " ln(classes)";
}

}  // namespace torus::sweep
