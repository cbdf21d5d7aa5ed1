#include "train/input_record.hpp"

#include "nn/io/atomic_file.hpp"
#include "train/train_config.hpp"

#include <charconv>
#include <cstdlib>
#include <filesystem>

namespace torus::train {

namespace {
// Floats as the shortest decimal that reads back to them (0.286, not 0.28600001335144043).
nlohmann::json shortest(const std::vector<float>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (float v : values) {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.push_back(std::strtod(std::string(buf, end).c_str(), nullptr));
  }
  return out;
}
}  // namespace

nlohmann::json to_json(const InputRecord& r) {
  nlohmann::json j = {{"kind", r.images ? "images" : "features"}, {"shape", r.shape}, {"source", r.source}};
  if (r.images) {
    j["layout"] = "planar (C, H, W), pixel values scaled to [0, 1], then (x - mean[c]) / std[c]";
    j["resize"] = "image folders: to H x W by area averaging where a side shrinks, bilinear where it grows; no crop";
    j["mean"] = shortest(r.mean);
    j["std"] = shortest(r.std);
  }
  return j;
}

void write_input_record(const std::string& run_dir, const InputRecord& record) {
  nn::io::write_file_atomic(run_dir + "/input.json", to_json(record).dump(2) + "\n");
}

InputRecord make_input_record(const std::string& source, const std::vector<int64_t>& shape,
                              const datasets::AugmentConfig& normalization) {
  InputRecord r;
  r.images = shape.size() == 3;
  r.shape = shape;
  r.source = source;
  if (r.images) {
    for (int64_t c = 0; c < shape[0]; ++c) {
      r.mean.push_back(normalization.mean.size() == 1 ? normalization.mean[0] : normalization.mean.at(size_t(c)));
      r.std.push_back(normalization.std.size() == 1 ? normalization.std[0] : normalization.std.at(size_t(c)));
    }
  }
  return r;
}

InputRecord read_input_record(const std::string& run_dir, bool& found) {
  const std::string path = run_dir + "/input.json";
  found = std::filesystem::exists(path);
  if (!found) return {};
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(nn::io::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": not valid JSON (" + e.what() + ")");
  }
  const auto field = [&](const char* key) -> const nlohmann::json& {
    if (!j.is_object() || !j.contains(key)) throw ConfigError(path + ": no \"" + std::string(key) + "\"");
    return j.at(key);
  };
  InputRecord r;
  const nlohmann::json& kind = field("kind");
  if (kind != "images" && kind != "features")
    throw ConfigError(path + ": \"kind\" is " + kind.dump() + ", expected \"images\" or \"features\"");
  r.images = kind == "images";
  const nlohmann::json& shape = field("shape");
  const size_t rank = r.images ? 3 : 1;
  if (!shape.is_array() || shape.size() != rank)
    throw ConfigError(path + ": \"shape\" is " + shape.dump() + ", expected " + std::to_string(rank) + " sizes");
  for (const auto& d : shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (int64_t(1) << 24))
      throw ConfigError(path + ": \"shape\" holds " + d.dump() + ", expected sizes in [1, 2^24]");
    r.shape.push_back(d.get<int64_t>());
  }
  if (field("source").is_string()) r.source = j.at("source").get<std::string>();
  if (r.images) {
    for (const char* key : {"mean", "std"}) {
      const nlohmann::json& v = field(key);
      if (!v.is_array() || int64_t(v.size()) != r.shape[0])
        throw ConfigError(path + ": \"" + key + "\" is " + v.dump() + ", expected one number per channel (" +
                          std::to_string(r.shape[0]) + ")");
      const bool is_std = std::string(key) == "std";
      for (const auto& x : v) {
        if (!x.is_number() || (is_std && !(x.get<double>() > 0)))
          throw ConfigError(path + ": \"" + key + "\" holds " + x.dump() + ", expected " +
                            (is_std ? "a positive number" : "a number"));
        (is_std ? r.std : r.mean).push_back(x.get<float>());
      }
    }
  }
  return r;
}

}  // namespace torus::train
