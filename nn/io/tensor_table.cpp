// Parsing and checking the named-tensor table of a header. Nothing here trusts the file: every
// number is range-checked before it is used as a size or an offset, and products are computed
// without overflow, so a hostile header cannot make a loader allocate or read out of bounds.
#include "nn/io/tensor_table.hpp"

#include <limits>
#include <map>
#include <set>

namespace torus::nn::io {

namespace {

// A found JSON value for a message: scalars as JSON cut to 40 characters, containers by their size,
// so a huge or deep hostile value can neither flood the log nor recurse deeply.
template <typename Json>
std::string shown(const Json& value) {
  if (value.is_array()) return std::string("an array of ") + std::to_string(value.size()) + " elements";
  if (value.is_object()) return std::string("an object of ") + std::to_string(value.size()) + " fields";
  std::string s = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// Thrown from inside the parser's callback to stop it; turned into a FormatError by parse_header.
struct HeaderRefused {
  std::string reason;
};

template <typename Json>
const Json& field(const std::string& where, const std::string& name, const Json& entry, const char* key) {
  const auto it = entry.find(key);
  if (it == entry.end()) {
    throw FormatError(where + ": tensor " + quoted_name(name) + ": missing field \"" + key + "\"");
  }
  return *it;
}

// A JSON number that is a non-negative integer (nlohmann parses those as number_unsigned).
template <typename Json>
std::uint64_t unsigned_integer(const std::string& where, const std::string& what, const Json& value) {
  if (!value.is_number_unsigned()) {
    throw FormatError(where + ": " + what + " is " + shown(value) + ", expected a non-negative integer");
  }
  return value.template get<std::uint64_t>();
}

Dtype parse_dtype(const std::string& where, const std::string& name, const std::string& dtype, bool allow_f64) {
  if (dtype == "F32") return Dtype::F32;
  if (dtype == "F64" && allow_f64) return Dtype::F64;
  throw FormatError(where + ": tensor " + quoted_name(name) + ": dtype " + quoted_name(dtype) +
                    " is not supported (expected \"F32\"" + (allow_f64 ? " or \"F64\")" : ")"));
}

std::string shape_text(const std::vector<std::uint64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += std::string(i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace

template <typename Json>
Json parse_header(const std::string& where, const std::string& text) {
  std::vector<std::set<std::string>> keys;  // keys seen so far in each open object
  int depth = 0;
  const auto check = [&](int, nlohmann::detail::parse_event_t event, Json& parsed) {
    using Event = nlohmann::detail::parse_event_t;
    if (event == Event::object_start || event == Event::array_start) {
      if (++depth > kMaxHeaderDepth)
        throw HeaderRefused{std::string("nested deeper than ") + std::to_string(kMaxHeaderDepth) + " levels"};
      if (event == Event::object_start) keys.emplace_back();
    } else if (event == Event::object_end || event == Event::array_end) {
      --depth;
      if (event == Event::object_end) keys.pop_back();
    } else if (event == Event::key) {
      const auto& key = parsed.template get_ref<const std::string&>();
      if (!keys.back().insert(key).second)
        throw HeaderRefused{std::string("the key ") + quoted_name(key) + " appears twice in one object"};
    }
    return true;
  };
  try {
    return Json::parse(text, check);
  } catch (const HeaderRefused& refused) {
    throw FormatError(where + ": header JSON is refused: " + refused.reason);
  } catch (const nlohmann::json::exception& err) {
    throw FormatError(where + ": header is not valid JSON: " + err.what());
  }
}

template nlohmann::json parse_header(const std::string&, const std::string&);
template nlohmann::ordered_json parse_header(const std::string&, const std::string&);

std::string quoted_name(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <typename Json>
TensorEntry parse_tensor_entry(const std::string& where, const std::string& name, const Json& entry,
                               std::uint64_t data_size, bool allow_f64) {
  const std::string tensor = std::string("tensor ") + quoted_name(name);
  if (!entry.is_object()) {
    throw FormatError(where + ": " + tensor + ": entry is " + shown(entry) + ", expected an object");
  }
  TensorEntry e;
  e.name = name;

  const Json& dtype = field(where, name, entry, "dtype");
  if (!dtype.is_string())
    throw FormatError(where + ": " + tensor + ": dtype is " + shown(dtype) + ", expected a string");
  e.dtype = parse_dtype(where, name, dtype.template get<std::string>(), allow_f64);

  const Json& shape = field(where, name, entry, "shape");
  if (!shape.is_array())
    throw FormatError(where + ": " + tensor + ": shape is " + shown(shape) + ", expected an array");
  if (shape.size() > static_cast<std::size_t>(kMaxRank)) {
    throw FormatError(where + ": " + tensor + ": shape has " + std::to_string(shape.size()) +
                      " dimensions, torus tensors hold at most " + std::to_string(kMaxRank));
  }
  std::vector<std::uint64_t> dims;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::uint64_t d = unsigned_integer(where, tensor + ": shape entry " + std::to_string(i), shape[i]);
    // Shape holds int64; a larger dimension can only come with a zero elsewhere, and is refused.
    if (d > static_cast<std::uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw FormatError(where + ": " + tensor + ": shape entry " + std::to_string(i) + " is " + std::to_string(d) +
                        ", larger than a dimension can be");
    }
    dims.push_back(d);
  }

  const Json& offsets = field(where, name, entry, "data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    throw FormatError(where + ": " + tensor + ": data_offsets is " + shown(offsets) + ", expected [begin, end]");
  }
  e.begin = unsigned_integer(where, tensor + ": data_offsets begin", offsets[0]);
  e.end = unsigned_integer(where, tensor + ": data_offsets end", offsets[1]);
  const std::string range =
      std::string("data_offsets [") + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
  if (e.begin > e.end) throw FormatError(where + ": " + tensor + ": " + range + " has begin after end");
  if (e.end > data_size) {
    throw FormatError(where + ": " + tensor + ": " + range + " reaches past the end of the " +
                      std::to_string(data_size) + "-byte data region (file truncated?)");
  }

  // Expected byte count, with every product checked: the count is at most data_size once it matches.
  const std::uint64_t width = dtype_bytes(e.dtype);
  std::uint64_t expected = width;  // numel(shape) * width
  bool overflow = false;
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) {
    expected = 0;
  } else {
    for (const std::uint64_t d : dims) {
      if (expected > std::numeric_limits<std::uint64_t>::max() / d) {
        overflow = true;
        break;
      }
      expected *= d;
    }
  }
  if (overflow || expected != e.end - e.begin) {
    throw FormatError(where + ": " + tensor + ": " + range + " hold " + std::to_string(e.end - e.begin) +
                      " bytes, expected " + (overflow ? std::string("more than 2^64") : std::to_string(expected)) +
                      " for shape " + shape_text(dims) + " of " + dtype_name(e.dtype) + " (" + std::to_string(width) +
                      " bytes each)");
  }
  // Only now, with the element count bounded by the bytes present, is the shape built.
  e.shape = Shape(std::vector<int64_t>(dims.begin(), dims.end()));
  return e;
}

template TensorEntry parse_tensor_entry(const std::string&, const std::string&, const nlohmann::json&, std::uint64_t,
                                        bool);
template TensorEntry parse_tensor_entry(const std::string&, const std::string&, const nlohmann::ordered_json&,
                                        std::uint64_t, bool);

void check_tiling(const std::string& where, const std::vector<TensorEntry>& entries, std::uint64_t data_size) {
  std::uint64_t cursor = 0;  // end of the bytes claimed so far
  const TensorEntry* previous = nullptr;
  for (const TensorEntry& e : entries) {
    const std::string range = std::string("[") + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
    if (e.begin < cursor) {
      throw FormatError(where + ": tensor " + quoted_name(e.name) + ": data_offsets " + range + " overlap tensor " +
                        quoted_name(previous->name) + " [" + std::to_string(previous->begin) + ", " +
                        std::to_string(previous->end) + "]; expected it to begin at " + std::to_string(cursor));
    }
    if (e.begin > cursor) {
      throw FormatError(where + ": tensor " + quoted_name(e.name) + ": data_offsets " + range + " leave bytes [" +
                        std::to_string(cursor) + ", " + std::to_string(e.begin) +
                        ") of the data region unused; expected it to begin at " + std::to_string(cursor));
    }
    cursor = e.end;
    previous = &e;
  }
  if (cursor != data_size) {
    throw FormatError(where + ": " + std::to_string(data_size - cursor) + " trailing bytes: the tensors end at byte " +
                      std::to_string(cursor) + " of a " + std::to_string(data_size) + "-byte data region");
  }
}

void check_parameter_set(const std::string& where, const NamedParameters<float>& expected,
                         const std::vector<std::pair<std::string, Shape>>& found) {
  std::map<std::string, const Shape*> by_name;
  for (const auto& [name, shape] : found) by_name.emplace(name, &shape);
  for (const auto& [name, p] : expected) {
    if (!by_name.count(name)) {
      throw MismatchError(where + ": missing tensor " + quoted_name(name) + " (expected shape " +
                          p->value.shape().str() + "); the file holds " + std::to_string(found.size()) + " tensors");
    }
  }
  for (const auto& [name, p] : expected) {
    const Shape& shape = *by_name.at(name);
    if (shape != p->value.shape()) {
      throw MismatchError(where + ": tensor " + quoted_name(name) + " has shape " + shape.str() + ", expected " +
                          p->value.shape().str());
    }
  }
  std::set<std::string> wanted;
  for (const auto& item : expected) wanted.insert(item.first);
  for (const auto& [name, shape] : found) {
    if (!wanted.count(name)) {
      throw MismatchError(where + ": unexpected tensor " + quoted_name(name) + " (shape " + shape.str() +
                          "): the model has no parameter of that name");
    }
  }
}

}  // namespace torus::nn::io
