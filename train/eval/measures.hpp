// Every measure torus-eval reports for one evaluation set (method.md 8), in one call: precision@1
// of the queries against the references in the evaluated space, few-shot accuracy (1 and 5 shots)
// on the queries or on the few-shot set (classes held out of training), in floats and, for the
// torus heads, on uint8 codes too, and circular variance, entropy and distinct rows over all the
// rows together (as the reference code computes them over all 60 000 vectors). Printing is the
// binary's job.
#pragma once

#include "nn/dist/communicator.hpp"
#include "train/eval/few_shot.hpp"
#include "train/eval/labelled_embeddings.hpp"

#include <string>
#include <vector>

namespace torus::eval {

struct MeasureOptions {
  int ways = 0;  // few-shot classes per episode; 0: 5, or every class when there are fewer
  int episodes = 600;
  int queries_per_class = 15;  // 0: every sample of a drawn class outside its support
  uint64_t seed = 0;
  int threads = 1;
  bool centre_on_support = false;  // the bioacoustic protocol's L2 normalisation and support centring
  std::vector<int64_t> prefixes;   // torus heads: also precision@1 of the first k circles, for each k
  // With prefixes: each prefix shorter than the code also searched in two stages, a shortlist of
  // this many by the prefix codes re-ranked by the full codes (0: not measured).
  int shortlist = 100;
  // Under mpirun: the nearest-neighbour searches (precision@1, the prefixes') spread over these
  // ranks, each searching its part of the references (sharded_search.hpp); every rank gets the
  // same measures, equal to one process's. Null: this process alone.
  const dist::Communicator* world = nullptr;
};

// Precision@1 of the embeddings cut after their first `circles` circles (a Matryoshka prefix):
// in floats (the prefix's evaluated space) and on its uint8 codes by circular L1, `circles` bytes
// per item.
struct PrefixPrecision {
  int64_t circles = 0;
  double float_precision_at_1 = 0, code_precision_at_1 = 0;
  // The two-stage search (geometry/two_stage_search.hpp) when measured: its precision@1, the
  // fraction of queries whose nearest reference it finds at the full-code search's distance (its
  // recall@1 against that search), and queries per second of it and of the full-code search.
  bool two_stage = false;
  int shortlist = 0;
  double two_stage_precision_at_1 = 0, two_stage_recall_at_1 = 0;
  double two_stage_queries_per_s = 0, full_code_queries_per_s = 0;
};

struct FewShotMeasure {
  int shots = 0;
  bool measured = false;  // false: skipped, `skipped` says why (too few samples per class)
  FewShotResult result;
  std::string skipped;
};

struct Measures {
  int64_t queries = 0, references = 0, dim = 0;
  bool has_precision = true;  // false without queries (a run with only a few-shot split)
  double precision_at_1 = 0;
  double search_seconds = 0;  // evaluated space and search; a report, never compared
  int ways = 0;               // as used by few_shot
  std::string few_shot_set;   // what the episodes draw from: "queries" or "few-shot split"
  int64_t few_shot_rows = 0;
  std::vector<FewShotMeasure> few_shot;        // 1-shot, then 5-shot
  std::vector<FewShotMeasure> few_shot_codes;  // the same episodes on uint8 torus codes (torus heads only)
  std::vector<PrefixPrecision> prefixes;       // one per MeasureOptions::prefixes
  double circular_variance = 0, entropy_nats = 0, max_entropy_nats = 0;
  int64_t distinct_rows = 0, rows = 0;
};

Measures measure_embeddings(const EvaluationSet& set, nn::HeadMode mode, const MeasureOptions& options);

}  // namespace torus::eval
