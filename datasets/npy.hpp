// NumPy .npy files: our own size-checked reader, xtensor-backed writers, and feature sets
// (a float matrix plus one label per row) for training heads on precomputed embeddings.
//
// Reading accepts format versions 1.0, 2.0 and 3.0, little-endian (or single-byte) numeric dtypes
// and C order only, rank 1 or 2. Everything the header promises is checked against the file before
// a value is read: the dict must hold exactly 'descr', 'fortran_order' and 'shape'; the shape must
// not overflow; the data must fill the file exactly (no truncation, no trailing bytes). We do not
// use xtensor's reader for this because it accepts truncated files silently. Every failure throws
// DataError naming the file, what was expected and what was found.
//
// Writing goes through xt::dump_npy (version 1.0, C order) into a temporary file in the same
// folder that is renamed over `path` once complete, so `path` is never left half-written.
#pragma once

#include "datasets/image_file.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::datasets {

inline constexpr int64_t kMaxNpyHeaderBytes = int64_t(1) << 20;  // numpy itself writes < 10 kB
inline constexpr int kMaxFeatureClasses = 1 << 20;  // larger labels are not class indices

struct FloatMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;  // (rows, cols), row-major
};

// A rank-2 float array ('<f4', or '<f8' converted to float: values beyond float's range become
// +-inf). Rank 1 and integer arrays are refused.
FloatMatrix read_npy_matrix(const std::string& path);

// A rank-1 integer array ('|i1' '|u1' '<i2' '<u2' '<i4' '<u4' '<i8' '<u8'; '<u8' values above
// INT64_MAX are refused).
std::vector<int64_t> read_npy_integers(const std::string& path);

// One integer label per line. The first line may be a header (any line that is not a number);
// a UTF-8 byte-order mark, spaces and '\r' are ignored; blank lines may only end the file.
// Anything else throws, naming the line number.
std::vector<int> read_label_csv(const std::string& path);

struct FeatureSet {
  int64_t n = 0, dim = 0;
  int classes = 0;            // max label + 1
  std::vector<float> values;  // (n, dim), row-major
  std::vector<int> labels;    // (n), each in [0, classes)
};

// Features from a rank-2 float .npy, labels from a rank-1 integer .npy or a .csv/.txt (chosen by
// extension). Refuses empty sets, a count mismatch, negative labels, labels >= kMaxFeatureClasses
// and NaN or infinite features (naming the row).
FeatureSet load_features(const std::string& features_npy, const std::string& labels_path);

// (rows, cols) float32 '<f4'.
void write_npy(const std::string& path, const float* data, int64_t rows, int64_t cols);
// (values.size(),) int64 '<i8'.
void write_npy(const std::string& path, const std::vector<int64_t>& values);
// (rows, cols) int64 '<i8' and float64 '<f8' (torus-index's neighbour ids and scores).
void write_npy(const std::string& path, const int64_t* data, int64_t rows, int64_t cols);
void write_npy(const std::string& path, const double* data, int64_t rows, int64_t cols);
// (rows, cols) uint8 '|u1'.
void write_npy_u8(const std::string& path, const uint8_t* data, int64_t rows, int64_t cols);

}  // namespace torus::datasets
