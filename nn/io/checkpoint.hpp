// Training checkpoints: everything needed to resume a run, in one file written atomically.
//   offset  bytes  field
//   0       8      magic "TORUSCKP"
//   8       4      format version, uint32 little-endian (kCheckpointVersion)
//   12      4      JSON header length H, uint32 (written space-padded to a multiple of 8)
//   16      8      total file size in bytes, uint64 (so a truncation is told apart from corruption)
//   24      H      JSON: architecture, epoch, step, rng_state, optimizer, settings (optional), and the tensor table
//                  [{"name", "dtype": "F32", "shape", "data_offsets": [begin, end]}, ...]
//   24+H    D      float32 little-endian data, tensors back to back in table order
//   end-4   4      CRC-32 (zlib's) of every byte before it, uint32
// Loading checks, in this order and each with its own message: the magic, the length (truncated),
// the version, the CRC (corrupt), the header, then the architecture. It parses into temporaries and returns the whole result or
// throws, so a caller is never left with half a checkpoint; the whole file is held in memory while
// its CRC is checked. Safetensors (safetensors.hpp) is the format for exporting weights; this one
// is for resuming.
#pragma once

#include "autodiff/tensor.hpp"
#include "nn/io/errors.hpp"
#include "nn/module.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace torus::nn::io {

inline constexpr char kCheckpointMagic[8] = {'T', 'O', 'R', 'U', 'S', 'C', 'K', 'P'};
inline constexpr std::uint32_t kCheckpointVersion = 1;
// Bounds on the counters a checkpoint may hold; anything outside is refused as malformed.
inline constexpr std::int64_t kMaxEpochs = 1'000'000;
inline constexpr std::int64_t kMaxSteps = std::int64_t(1) << 53;

// Tensor name prefixes by role.
inline const std::string kModelPrefix = "model/";      // model weights, "model/fc1.weight"
inline const std::string kOptimizerPrefix = "optim/";  // optimiser state, "optim/fc1.weight.momentum"
inline const std::string kBufferPrefix = "buffer/";    // other buffers (batch-norm running statistics ...)

struct Checkpoint {
  nlohmann::json architecture;  // the model's configuration (object or string); compared on load
  std::int64_t epoch = 0;
  std::int64_t step = 0;
  std::string rng_state;     // text, e.g. a std::mt19937_64 written with operator<<
  nlohmann::json optimizer;  // name and hyper-parameters, e.g. {"name": "sgd", "lr": 0.1}
  // The writer's resolved run settings (torus-train: {"optim.lr": "0.1", ...}), so a resumed run
  // can refuse a configuration edited since; null when the writer records none (older files).
  nlohmann::json settings;
  std::vector<std::pair<std::string, Tensor<float>>> tensors;  // unique names, laid out in this order
  std::string source;                                          // the path it was loaded from (for messages); not saved
};

// Writes atomically (write_file_atomic). std::invalid_argument, before the file is touched, for
// repeated tensor names or strings that are not valid UTF-8.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Loads `path`; its architecture must equal expected_architecture (MismatchError naming the first
// differing field otherwise). FormatError for a truncated, corrupt, foreign or newer file.
Checkpoint load_checkpoint(const std::string& path, const nlohmann::json& expected_architecture);
// The same without the architecture check, for tools that inspect any checkpoint.
Checkpoint read_checkpoint(const std::string& path);

// Appends copies of `params`' values (or of `tensors`) as prefix + name.
void add_tensors(Checkpoint& checkpoint, const std::string& prefix, const NamedParameters<float>& params);
void add_tensors(Checkpoint& checkpoint, const std::string& prefix,
                 const std::map<std::string, Tensor<float>>& tensors);
// The tensors whose names start with prefix, with the prefix removed (an optimiser's state map).
std::map<std::string, Tensor<float>> tensors_under(const Checkpoint& checkpoint, const std::string& prefix);
// Copies prefix + name into each parameter. The tensors under prefix must match `params` exactly
// in names and shapes; otherwise MismatchError names the first problem and nothing is modified.
void restore_parameters(const Checkpoint& checkpoint, const std::string& prefix, const NamedParameters<float>& params);

}  // namespace torus::nn::io
