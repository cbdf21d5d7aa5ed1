// Reading embeddings to evaluate: a float32 .npy matrix (N, D) with one class label per row (.npy
// integers or a CSV column), and torus-embed's output folder (meta.json, the test split as queries,
// the train split as references). torus-eval and torus-quant-eval both read through here, so both
// accept the same files and refuse bad ones with the same messages (file, what, expected, found).
// Nothing here measures anything.
#pragma once

#include "datasets/npy.hpp"
#include "nn/head_mode.hpp"
#include "train/eval/precision.hpp"

#include <string>
#include <vector>

namespace torus::eval {

struct LabelledEmbeddings {
  RowMatrix x;              // (N, D)
  std::vector<int> labels;  // N class indices
};

// A float32 .npy matrix, or a split torus-embed wrote in shards under mpirun: when `path` (say
// train_embeddings.npy) is not a file and meta.json beside it lists that split's shards, the
// shards concatenated in order (their counts and widths checked against meta.json).
datasets::FloatMatrix read_embedding_matrix(const std::string& path);

// `labels` ending in .csv is read as one label per line, anything else as a .npy integer array
// (or, as above, the shards of a split).
// Throws datasets::DataError naming the file when the counts differ or a label is not a class
// index in [0, 2^30].
LabelledEmbeddings load_labelled_embeddings(const std::string& embeddings, const std::string& labels);

struct EvaluationFiles {
  std::string queries, query_labels, references, reference_labels;  // queries "": no precision@1
  std::string few_shot, few_shot_labels;  // few-shot episodes' set ("": the queries)
};

// torus-embed's folder: test_* as queries, train_* as references, and fewshot_* (an audio run's
// held-out classes) as the few-shot set when the folder has it.
EvaluationFiles embedding_folder_files(const std::string& dir);

// The head named in dir/meta.json, after checking that the folder holds the train split and the
// test or the fewshot split.
std::string embedding_folder_head(const std::string& dir);

struct EvaluationSet {
  LabelledEmbeddings queries, references;  // queries empty: no test split
  LabelledEmbeddings few_shot;             // empty: few-shot episodes on the queries
  bool has_queries() const { return queries.x.rows() > 0; }
  bool has_few_shot() const { return few_shot.x.rows() > 0; }
};

// DataError unless `x` (read from `path`) is what `mode` evaluates: when the file's folder has
// torus-embed's meta.json listing it, the head it names (its "evaluate_as"); and in any case unit
// pairs for torusN and unit rows for the sphere, within 1e-3.
void check_representation(const std::string& path, const RowMatrix& x, nn::HeadMode mode);

// Loads the sets and checks them against each other and the head: equal widths, an even width
// for torusN (pairs), and check_representation for each.
EvaluationSet load_evaluation_set(const EvaluationFiles& files, nn::HeadMode mode);

}  // namespace torus::eval
