// The table of named tensors that safetensors files and checkpoints both keep in their JSON header:
// parsing one entry {"dtype", "shape", "data_offsets"}, checking that the entries tile the data
// region exactly, and matching what a file holds against the parameters a model expects.
// Internal to nn/io (not installed). Every failure throws FormatError or MismatchError naming the
// file (`where`), the tensor and the field.
#pragma once

#include "autodiff/tensor.hpp"
#include "nn/io/errors.hpp"
#include "nn/module.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace torus::nn::io {

enum class Dtype { F32, F64 };

inline std::size_t dtype_bytes(Dtype d) { return d == Dtype::F32 ? 4 : 8; }
inline const char* dtype_name(Dtype d) { return d == Dtype::F32 ? "F32" : "F64"; }

struct TensorEntry {
  std::string name;
  Dtype dtype = Dtype::F32;
  Shape shape;
  std::uint64_t begin = 0, end = 0;  // byte range [begin, end) in the data region
};

// Parses a header's JSON text. Refuses, with FormatError naming the file: invalid JSON (with the
// parser's position), a key repeated inside one object (which loaders would resolve differently),
// and nesting deeper than kMaxHeaderDepth (so comparing or printing a value cannot exhaust the stack).
inline constexpr int kMaxHeaderDepth = 64;
template <typename Json>
Json parse_header(const std::string& where, const std::string& text);

// `s` as a JSON string literal: quoted and escaped, so odd names print unambiguously. Never throws
// (bytes that are not UTF-8 print as U+FFFD).
std::string quoted_name(const std::string& s);

// The entry of tensor `name`. Only F32 is accepted, and F64 too when allow_f64. The offsets must lie
// in a data region of data_size bytes and span exactly numel(shape) * dtype_bytes bytes.
template <typename Json>
TensorEntry parse_tensor_entry(const std::string& where, const std::string& name, const Json& entry,
                               std::uint64_t data_size, bool allow_f64);

// Entries, in the given order, must cover [0, data_size) back to back: no overlap, no gap, no
// bytes after the last one.
void check_tiling(const std::string& where, const std::vector<TensorEntry>& entries, std::uint64_t data_size);

// `found` (name, shape) must hold exactly the names of `expected`, each with its parameter's shape.
// Reports the first missing, then the first mis-shaped, then the first unexpected name.
void check_parameter_set(const std::string& where, const NamedParameters<float>& expected,
                         const std::vector<std::pair<std::string, Shape>>& found);

// Throws std::invalid_argument, naming `what` and the name, when two (name, x) pairs share a name.
template <typename Named>
void check_unique_names(const std::string& what, const std::vector<Named>& named) {
  std::vector<const std::string*> names;
  for (const auto& item : named) names.push_back(&item.first);
  std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  for (std::size_t i = 1; i < names.size(); ++i)
    if (*names[i] == *names[i - 1])
      throw std::invalid_argument(what + ": the name " + quoted_name(*names[i]) + " appears twice");
}

}  // namespace torus::nn::io
