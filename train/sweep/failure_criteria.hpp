// Whether a finished cell of the grid "failed to train" (method.md 10), from what its run left: the
// exit status of torus-train, metrics.csv's per-epoch SupCon, and the measures torus-eval and
// torus-quant-eval printed. Every threshold lives in FailureThresholds, each with the reason it
// has the value it has. Pure functions of their inputs: the sweep gathers the evidence, this file
// only judges it, so the tests can judge synthetic runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace torus::sweep {

struct FailureThresholds {
  // The last epoch's SupCon must sit below the chance loss by at least this share of what it can
  // fall at all (from chance to the loss of perfectly separated classes, supcon_bounds), else the
  // run stalled. Random initial embeddings start at or above chance (at tau = 0.1 their spread
  // similarities cost more than equal ones), so a run that never learned ends there; a tenth of
  // the way is far above the noise of an epoch mean and far below any run that learned.
  double stall_progress = 0.10;
  // Diverged: the last epoch's SupCon above the first epoch's by more than this share of the
  // same range. Learning only lowers the loss after the first epoch (whose mean holds its steepest
  // fall), so a rise of half the whole learnable range is the optimiser running away.
  double divergence_rise = 0.50;
  // Collapsed: precision@1 within this of chance (the share of the commonest query class, what a
  // network answering one class for everything gets), or within 3 binomial standard errors of it
  // when the query set is small enough for those to be wider.
  double chance_margin = 0.02;
  double chance_sigmas = 3.0;
  // Collapsed: the circular variance of the embeddings (method.md 8) below this: every vector on
  // nearly one direction (a collapse to one point gives 0; a trained run is above 0.1).
  double min_circular_variance = 0.01;
  // Collapsed: fewer distinct 8-bit codes than classes cannot tell the classes apart, and codes
  // carrying less than half of ln(classes) nats are spread over fewer cells than a class needs.
  double min_codes_per_class = 1.0;
  double min_entropy_share_of_ln_classes = 0.5;
};

inline constexpr FailureThresholds kFailureThresholds{};

// What SupCon can be for one batch (method.md 4): at chance every one of the N - 1 others is as
// near as the positives, (tau / base_tau) ln(N - 1); with classes perfectly separated each anchor
// spreads its mass over its P = N / classes - 1 positives only, (tau / base_tau) ln(P).
// N = views x batch; `level_weight` sums the Matryoshka levels' weights (1 without).
struct SupConBounds {
  double chance = 0, separated = 0;
};
SupConBounds supcon_bounds(double temperature, double base_temperature, int64_t views, int64_t batch, int64_t classes,
                           double level_weight);

struct EpochLoss {
  int64_t epoch = 0;
  double loss = 0, supcon = 0;
  double seconds = 0;  // of training since the run began (metrics.csv's seconds)
};

// Everything the verdict reads. Measures are absent when their stage did not run.
struct CellEvidence {
  int train_exit = 0;             // torus-train's exit status (3: stopped on a non-finite loss)
  std::string train_message;      // its last line of stderr, for the reason's detail
  std::vector<EpochLoss> epochs;  // metrics.csv
  SupConBounds bounds;
  int64_t classes = 0, queries = 0;
  double chance_precision = 0;            // share of the commonest class among the queries
  std::optional<double> precision_at_1;   // torus-eval, float
  std::optional<double> circular_variance;
  std::optional<int64_t> code_distinct;   // torus-quant-eval's 8bit row, else torus-eval's distinct rows
  std::optional<double> code_entropy_nats;
};

// One failure: a short name (nonfinite, stall, divergence, collapse) and the numbers behind it.
struct Failure {
  std::string reason, detail;
};

// Every criterion the cell meets, most fundamental first (a non-finite loss, then divergence or
// else a stall, then the collapse checks); empty: the cell trained.
std::vector<Failure> classify_cell(const CellEvidence& e, const FailureThresholds& t = kFailureThresholds);

// A text of every threshold, for --help and the report.
std::string describe_thresholds(const FailureThresholds& t = kFailureThresholds);

}  // namespace torus::sweep
