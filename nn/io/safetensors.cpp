// save_safetensors / load_safetensors and the NamedParameters helpers built on them. The load reads
// the 8-byte length, then the header, validates all of it (tensor_table), and only then reads each
// tensor's bytes straight into its storage; no size read from the file is used before it is
// checked against the file's real size.
#include "nn/io/safetensors.hpp"

#include "nn/io/atomic_file.hpp"
#include "nn/io/tensor_table.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstring>

namespace torus::nn::io {

// The format is little-endian and we copy tensor bytes as they are in memory.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

constexpr const char* kMetadataKey = "__metadata__";

// The padded JSON header for `tensors` laid out back to back in the given order.
std::string make_header(const std::string& path, const TensorRefs& tensors,
                        const std::map<std::string, std::string>& metadata) {
  const std::string context = std::string("save_safetensors: ") + path;
  check_unique_names(context, tensors);
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == kMetadataKey) throw std::invalid_argument(context + ": \"__metadata__\" cannot name a tensor");
    if (!t) throw std::invalid_argument(context + ": tensor " + quoted_name(name) + " is a null pointer");
    const std::uint64_t bytes = static_cast<std::uint64_t>(t->numel()) * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", t->shape().dims()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& err) {
    throw std::invalid_argument(context + ": tensor names and metadata must be valid UTF-8 (" + err.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data then starts 8-byte aligned
  return text;
}

}  // namespace

const Tensor<float>* SafetensorsFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

void save_safetensors(const std::string& path, const TensorRefs& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string header = make_header(path, tensors, metadata);
  write_file_atomic(path, [&](ByteSink& sink) {
    const std::uint64_t length = header.size();
    sink.write(&length, sizeof length);
    sink.write(header);
    for (const auto& [name, t] : tensors) sink.write(t->data(), static_cast<std::size_t>(t->numel()) * sizeof(float));
  });
}

SafetensorsFile load_safetensors(const std::string& path) {
  const InputFile file(path);
  const std::uint64_t size = file.size();
  if (size < 8) {
    throw FormatError(path + ": file is " + std::to_string(size) +
                      " bytes, shorter than the 8-byte header length (truncated, or not a safetensors file)");
  }
  std::uint64_t length = 0;
  file.read_at(0, sizeof length, &length);
  if (length > kMaxSafetensorsHeaderBytes) {
    throw FormatError(path + ": header length " + std::to_string(length) + " exceeds the limit of " +
                      std::to_string(kMaxSafetensorsHeaderBytes) + " bytes (corrupt, or not a safetensors file)");
  }
  if (length > size - 8) {
    throw FormatError(path + ": header length " + std::to_string(length) + " exceeds the " + std::to_string(size - 8) +
                      " bytes that follow it (file truncated?)");
  }
  std::string text(length, '\0');
  file.read_at(8, text.size(), text.data());
  const auto header = parse_header<nlohmann::ordered_json>(path, text);
  if (!header.is_object()) throw FormatError(path + ": header is not a JSON object");

  SafetensorsFile out;
  const std::uint64_t data_start = 8 + length, data_size = size - data_start;
  std::vector<TensorEntry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key != kMetadataKey) {
      entries.push_back(parse_tensor_entry(path, key, value, data_size, /*allow_f64=*/true));
      continue;
    }
    if (!value.is_object()) throw FormatError(path + ": \"__metadata__\" is not a JSON object");
    for (const auto& [mkey, mvalue] : value.items()) {
      if (!mvalue.is_string())
        throw FormatError(path + ": \"__metadata__\" value of " + quoted_name(mkey) + " is not a string");
      out.metadata.emplace(mkey, mvalue.get<std::string>());
    }
  }
  // File order is data order. Ties (empty tensors at one offset) keep the header's order.
  std::stable_sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  check_tiling(path, entries, data_size);

  out.tensors.reserve(entries.size());
  for (const TensorEntry& e : entries) {
    Tensor<float> t(e.shape);
    const std::size_t bytes = static_cast<std::size_t>(e.end - e.begin);
    if (e.dtype == Dtype::F32) {
      file.read_at(data_start + e.begin, bytes, t.data());
    } else {  // F64, narrowed to the float the models train in
      std::vector<double> wide(static_cast<std::size_t>(t.numel()));
      file.read_at(data_start + e.begin, bytes, wide.data());
      std::transform(wide.begin(), wide.end(), t.data(), [](double x) { return static_cast<float>(x); });
    }
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

void save_parameters(const std::string& path, const NamedParameters<float>& params,
                     const std::map<std::string, std::string>& metadata) {
  TensorRefs refs;
  for (const auto& [name, p] : params) refs.emplace_back(name, &p->value);
  save_safetensors(path, refs, metadata);
}

std::map<std::string, std::string> load_parameters(const std::string& path, const NamedParameters<float>& params) {
  check_unique_names(std::string("load_parameters: ") + path, params);
  SafetensorsFile file = load_safetensors(path);
  std::vector<std::pair<std::string, Shape>> found;
  for (const auto& [name, t] : file.tensors) found.emplace_back(name, t.shape());
  check_parameter_set(path, params, found);
  // Every check has passed; moves of same-shaped tensors cannot fail, so no half-loaded model.
  const std::map<std::string, Parameter<float>*> by_name(params.begin(), params.end());
  for (auto& [name, t] : file.tensors) by_name.at(name)->value = std::move(t);
  return std::move(file.metadata);
}

}  // namespace torus::nn::io
