// Weights in the safetensors format (huggingface/safetensors), readable by numpy, PyTorch and the
// safetensors library: an 8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}
// padded with spaces to a multiple of 8, then the raw little-endian data, tensors back to back.
// We write F32 only; we read F32, and F64 converted to float. Every other dtype is refused. A load
// validates the whole header before it reads any data, and throws FormatError naming the file and
// the problem. Writes go through write_file_atomic.
#pragma once

#include "autodiff/tensor.hpp"
#include "nn/io/errors.hpp"
#include "nn/module.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace torus::nn::io {

// Larger headers are refused before anything is allocated for them (the reference implementation
// uses the same bound).
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

using TensorRefs = std::vector<std::pair<std::string, const Tensor<float>*>>;

struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor<float>>> tensors;  // in the order of their data in the file
  std::map<std::string, std::string> metadata;                 // "__metadata__", empty when absent
  const Tensor<float>* find(const std::string& name) const;    // nullptr when absent
};

// Writes `tensors` in the given order. Names must be unique, valid UTF-8 and not "__metadata__"
// (std::invalid_argument otherwise, before the file is touched).
void save_safetensors(const std::string& path, const TensorRefs& tensors,
                      const std::map<std::string, std::string>& metadata = {});
SafetensorsFile load_safetensors(const std::string& path);

// A model's parameters, under their names ("fc1.weight" ...).
void save_parameters(const std::string& path, const NamedParameters<float>& params,
                     const std::map<std::string, std::string>& metadata = {});
// Loads into `params` and returns the file's metadata. The file must hold exactly the names of
// `params`, each with its parameter's shape: otherwise MismatchError names the first missing,
// mis-shaped or unexpected tensor, and no parameter is modified.
std::map<std::string, std::string> load_parameters(const std::string& path, const NamedParameters<float>& params);

}  // namespace torus::nn::io
