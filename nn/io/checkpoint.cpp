// save_checkpoint streams the prefix, header, data and CRC through write_file_atomic; the loader
// reads the whole file, checks its framing and CRC before it trusts a single header byte, then
// parses into a fresh Checkpoint that is only returned once everything has passed.
#include "nn/io/checkpoint.hpp"

#include "nn/io/atomic_file.hpp"
#include "nn/io/crc32.hpp"
#include "nn/io/tensor_table.hpp"

#include <algorithm>
#include <cstdio>
#include <bit>
#include <cstring>
#include <limits>
#include <set>

namespace torus::nn::io {

static_assert(std::endian::native == std::endian::little, "checkpoint I/O assumes a little-endian host");

namespace {

constexpr std::size_t kPrefixBytes = 24;  // magic, version, header length, file size
constexpr std::size_t kCrcBytes = 4;
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

using detail::crc32_update;

template <typename T>
T read_le(const std::string& bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// Bytes as text for a message, unprintable ones as \xNN.
std::string printable(const char* data, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      s += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      s += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    }
  }
  return s;
}

std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(value));
  return text;
}

std::string shown(const nlohmann::json& value) {
  std::string s = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Names the first difference between the two architectures, as a JSON pointer and both values.
std::string first_difference(const nlohmann::json& expected, const nlohmann::json& found) {
  const nlohmann::json patch = nlohmann::json::diff(expected, found);
  const nlohmann::json& op = patch.at(0);
  const std::string path = op.at("path").get<std::string>();
  const std::string where = path.empty() ? std::string("as a whole") : "at " + path;
  const std::string kind = op.at("op").get<std::string>();
  if (kind == "add") return where + ": the file has " + shown(op.at("value")) + ", expected no such field";
  const std::string wanted = shown(expected.at(nlohmann::json::json_pointer(path)));
  if (kind == "remove") return where + ": expected " + wanted + ", the file has no such field";
  return where + ": expected " + wanted + ", found " + shown(op.at("value"));
}

std::int64_t integer_field(const std::string& where, const nlohmann::json& header, const char* key) {
  const auto it = header.find(key);
  if (it == header.end()) throw FormatError(where + ": header has no \"" + key + "\"");
  const bool fits = it->is_number_integer() &&
                    (!it->is_number_unsigned() ||
                     it->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  if (!fits)
    throw FormatError(where + ": header field \"" + key + "\" is " + shown(*it) + ", expected a 64-bit integer");
  return it->get<std::int64_t>();
}

std::int64_t bounded_field(const std::string& where, const nlohmann::json& header, const char* key, std::int64_t max) {
  const std::int64_t v = integer_field(where, header, key);
  if (v < 0 || v > max) {
    throw FormatError(where + ": header field \"" + key + "\" is " + std::to_string(v) + ", expected 0.." + std::to_string(max));
  }
  return v;
}

const nlohmann::json& any_field(const std::string& where, const nlohmann::json& header, const char* key) {
  const auto it = header.find(key);
  if (it == header.end()) throw FormatError(where + ": header has no \"" + key + "\"");
  return *it;
}

// The fixed-size framing: size, magic, version, recorded size, CRC. Returns the header length.
std::uint32_t check_framing(const std::string& path, const std::string& bytes) {
  const std::size_t n = bytes.size();
  // Compare what there is of the magic first: a short foreign file is "not a checkpoint".
  const std::size_t magic_seen = std::min(n, sizeof kCheckpointMagic);
  if (std::memcmp(bytes.data(), kCheckpointMagic, magic_seen) != 0) {
    throw FormatError(path + ": not a torus checkpoint: the file starts with \"" + printable(bytes.data(), magic_seen) +
                      "\", expected the magic \"TORUSCKP\"");
  }
  if (n < kPrefixBytes + kCrcBytes) {
    throw FormatError(path + ": truncated: " + std::to_string(n) + " bytes, fewer than the " +
                      std::to_string(kPrefixBytes + kCrcBytes) + " of an empty checkpoint");
  }
  const auto version = read_le<std::uint32_t>(bytes, 8);
  if (version != kCheckpointVersion) {
    throw FormatError(path + ": checkpoint format version " + std::to_string(version) + ", this build reads version " +
                      std::to_string(kCheckpointVersion));
  }
  const auto recorded = read_le<std::uint64_t>(bytes, 16);
  if (n < recorded) {
    throw FormatError(path + ": truncated: " + std::to_string(n) + " bytes, the checkpoint records " +
                      std::to_string(recorded));
  }
  if (n > recorded) {
    throw FormatError(path + ": corrupt: " + std::to_string(n) + " bytes, the checkpoint records " +
                      std::to_string(recorded) + " (trailing bytes, or a damaged size field)");
  }
  const std::size_t covered = n - kCrcBytes;
  const std::uint32_t computed = crc32_update(0, bytes.data(), covered);
  const auto stored = read_le<std::uint32_t>(bytes, covered);
  if (computed != stored) {
    throw FormatError(path + ": corrupt: CRC-32 of the first " + std::to_string(covered) + " bytes is " +
                      hex32(computed) + ", the file records " + hex32(stored));
  }
  const auto header_length = read_le<std::uint32_t>(bytes, 12);
  if (header_length > covered - kPrefixBytes) {
    throw FormatError(path + ": header length " + std::to_string(header_length) + " exceeds the " +
                      std::to_string(covered - kPrefixBytes) + " bytes between the prefix and the CRC");
  }
  return header_length;
}

Checkpoint decode(const std::string& path, const nlohmann::json* expected_architecture) {
  const std::string bytes = read_file(path);
  const std::uint32_t header_length = check_framing(path, bytes);
  const auto header = parse_header<nlohmann::json>(path, bytes.substr(kPrefixBytes, header_length));
  if (!header.is_object()) throw FormatError(path + ": header is not a JSON object");

  Checkpoint out;
  out.source = path;
  out.architecture = any_field(path, header, "architecture");
  if (expected_architecture && out.architecture != *expected_architecture) {
    throw MismatchError(path + ": the checkpoint's architecture differs from the expected one " +
                        first_difference(*expected_architecture, out.architecture));
  }
  // A run's counters are never negative, and an epoch count past kMaxEpochs (or a step count past
  // 2^53, where doubles in the metrics stop counting exactly) is a crafted file, not a run.
  out.epoch = bounded_field(path, header, "epoch", kMaxEpochs);
  out.step = bounded_field(path, header, "step", kMaxSteps);
  const nlohmann::json& rng = any_field(path, header, "rng_state");
  if (!rng.is_string())
    throw FormatError(path + ": header field \"rng_state\" is " + shown(rng) + ", expected a string");
  out.rng_state = rng.get<std::string>();
  out.optimizer = any_field(path, header, "optimizer");
  if (const auto it = header.find("settings"); it != header.end()) {
    if (!it->is_object() && !it->is_null())
      throw FormatError(path + ": header field \"settings\" is " + shown(*it) + ", expected an object");
    out.settings = *it;
  }

  const nlohmann::json& table = any_field(path, header, "tensors");
  if (!table.is_array()) throw FormatError(path + ": header field \"tensors\" is not an array");
  const std::size_t data_start = kPrefixBytes + header_length;
  const std::uint64_t data_size = bytes.size() - kCrcBytes - data_start;
  std::vector<TensorEntry> entries;
  std::set<std::string> names;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const nlohmann::json& entry = table[i];
    const auto name = entry.is_object() ? entry.find("name") : entry.end();
    if (!entry.is_object() || name == entry.end() || !name->is_string()) {
      throw FormatError(path + ": tensor table entry " + std::to_string(i) + " has no string \"name\"");
    }
    entries.push_back(parse_tensor_entry(path, name->get<std::string>(), entry, data_size, /*allow_f64=*/false));
    if (!names.insert(entries.back().name).second) {
      throw FormatError(path + ": tensor " + quoted_name(entries.back().name) + " appears twice in the tensor table");
    }
  }
  check_tiling(path, entries, data_size);

  out.tensors.reserve(entries.size());
  for (const TensorEntry& e : entries) {
    Tensor<float> t(e.shape);
    // An empty tensor may have no storage at all, and memcpy must not be given a null pointer.
    if (e.end > e.begin)
      std::memcpy(t.data(), bytes.data() + data_start + e.begin, static_cast<std::size_t>(e.end - e.begin));
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  const std::string context = std::string("save_checkpoint: ") + path;
  check_unique_names(context, checkpoint.tensors);
  nlohmann::json table = nlohmann::json::array();
  std::uint64_t offset = 0;
  for (const auto& [name, t] : checkpoint.tensors) {
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * sizeof(float);
    table.push_back(
        {{"name", name}, {"dtype", "F32"}, {"shape", t.shape().dims()}, {"data_offsets", {offset, offset + bytes}}});
    offset += bytes;
  }
  nlohmann::json header = {
      {"architecture", checkpoint.architecture}, {"epoch", checkpoint.epoch},         {"step", checkpoint.step},
      {"rng_state", checkpoint.rng_state},       {"optimizer", checkpoint.optimizer}, {"tensors", std::move(table)}};
  if (!checkpoint.settings.is_null()) header["settings"] = checkpoint.settings;
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& err) {
    throw std::invalid_argument(context + ": names and strings must be valid UTF-8 (" + err.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data then starts 8-byte aligned
  if (text.size() > kMaxHeaderBytes) {
    throw std::invalid_argument(context + ": the header takes " + std::to_string(text.size()) + " bytes, more than " +
                                std::to_string(kMaxHeaderBytes));
  }

  write_file_atomic(path, [&](ByteSink& sink) {
    std::uint32_t crc = 0;
    const auto put = [&](const void* data, std::size_t n) {
      sink.write(data, n);
      crc = crc32_update(crc, data, n);
    };
    const auto header_length = static_cast<std::uint32_t>(text.size());
    const std::uint64_t file_size = kPrefixBytes + text.size() + offset + kCrcBytes;
    put(kCheckpointMagic, sizeof kCheckpointMagic);
    put(&kCheckpointVersion, sizeof kCheckpointVersion);
    put(&header_length, sizeof header_length);
    put(&file_size, sizeof file_size);
    put(text.data(), text.size());
    for (const auto& [name, t] : checkpoint.tensors) put(t.data(), static_cast<std::size_t>(t.numel()) * sizeof(float));
    sink.write(&crc, sizeof crc);
  });
}

Checkpoint load_checkpoint(const std::string& path, const nlohmann::json& expected_architecture) {
  return decode(path, &expected_architecture);
}

Checkpoint read_checkpoint(const std::string& path) { return decode(path, nullptr); }

void add_tensors(Checkpoint& checkpoint, const std::string& prefix, const NamedParameters<float>& params) {
  for (const auto& [name, p] : params) checkpoint.tensors.emplace_back(prefix + name, p->value);
}

void add_tensors(Checkpoint& checkpoint, const std::string& prefix,
                 const std::map<std::string, Tensor<float>>& tensors) {
  for (const auto& [name, t] : tensors) checkpoint.tensors.emplace_back(prefix + name, t);
}

std::map<std::string, Tensor<float>> tensors_under(const Checkpoint& checkpoint, const std::string& prefix) {
  std::map<std::string, Tensor<float>> out;
  for (const auto& [name, t] : checkpoint.tensors)
    if (name.compare(0, prefix.size(), prefix) == 0) out.emplace(name.substr(prefix.size()), t);
  return out;
}

void restore_parameters(const Checkpoint& checkpoint, const std::string& prefix, const NamedParameters<float>& params) {
  const std::string where =
      (checkpoint.source.empty() ? std::string("checkpoint") : checkpoint.source) + " (" + prefix + ")";
  check_unique_names(std::string("restore_parameters: ") + where, params);
  // Copies first (tensors_under), moves after every check: an allocation failure or a mismatch
  // leaves every parameter as it was.
  std::map<std::string, Tensor<float>> found = tensors_under(checkpoint, prefix);
  std::vector<std::pair<std::string, Shape>> shapes;
  for (const auto& [name, t] : found) shapes.emplace_back(name, t.shape());
  check_parameter_set(where, params, shapes);
  for (const auto& [name, p] : params) p->value = std::move(found.at(name));
}

}  // namespace torus::nn::io
