// The quantisation table of method.md 9 and 12 (what torus-quant-eval prints): test queries against
// training references, one row per representation:
//   none       float32, precision@1 by inner product in the evaluated space
//   float16    IEEE half of the stored embeddings
//   8bit       grid with 8 bits per dimension, range fitted on the references (torus: on the
//              unwrapped angles, then Clifford-mapped; sphere: L2 on the grid values)
//   1bit       grid with 1 bit (torusN: the quadrant code, 2 bits per circle), Hamming distance
//   pqB_M      product quantisation of the 8-bit space (M sub-quantisers of B bits), searched
//              with asymmetric distance tables (the query stays in the 8-bit space)
//   u8-lut     native torus codes, one uint8 per circle over the fixed range [0, 1): the cosine
//              table similarity (int16 entries, int32 sums)
//   u8-l1      the same codes by circular L1 on the wrapped int8 differences
//   u8-dot     the same codes by the cosine dot product cos a cos b + sin a sin b of int8 cos/sin
//              tables; the stored code keeps 8 bits per circle, the search index in memory holds
//              the cos/sin bytes, 16 bits per circle (16 bytes per vector for D16 torusN)
//   cpqB_M     our circular product quantisation of the angles (circular k-means), same bits
// The u8 and cpq rows are the torus heads' only. Every precision@1 is counted by label_match_rate.
// Printing and writing files is the binary's job.
#pragma once

#include "nn/dist/communicator.hpp"
#include "train/eval/labelled_embeddings.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace torus::eval {

struct QuantRow {
  std::string mode;
  int bits = 0;                      // per vector
  double precision_at_1 = 0;
  double circular_variance = 0;      // queries and references together, dequantised, evaluated space
  double entropy_nats = 0;           // of the codes (method.md 8)
  int64_t distinct = 0;              // distinct codes
  double queries_per_s = 0;          // the search alone; a report, never compared
};

// Every row for `mode` (sphere, torusN or torusC; others throw). `log` (may be null) gets a line
// per row done or skipped (a product quantiser whose sub-quantisers do not divide the width).
// world (under mpirun): every search spread over the ranks, each searching its part of the
// references; the quantisers are fitted on all of them by every rank alike, so every rank's table
// equals one process's (queries_per_s then counts the ranks' searches and the merge together).
std::vector<QuantRow> quantisation_table(const EvaluationSet& set, nn::HeadMode mode, int threads, std::FILE* log,
                                         const dist::Communicator* world = nullptr);

}  // namespace torus::eval
