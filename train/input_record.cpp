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
  nlohmann::json j = {{"kind", r.images ? "images" : r.log_mel ? "log-mel" : "features"}, {"shape", r.shape}, {"source", r.source}};
  if (r.log_mel) {
    j["layout"] = "(1, n_mels, frames): 10 log10(max(mel power, floor)) dB per band and frame, then (x - mean[band]) / std[band]";
    j["crop"] = "training: random crops of shape[2] frames; evaluation: the centre crop (a shorter clip repeated end to end)";
    j["log_mel"] = {{"sample_rate", r.mel.sample_rate}, {"n_fft", r.mel.n_fft}, {"hop", r.mel.hop}, {"n_mels", r.mel.n_mels},
                    {"f_min", r.mel.f_min}, {"f_max", r.mel.f_max},
                    {"scale", r.mel.scale == datasets::MelScale::htk ? "htk" : "slaney"}, {"slaney_norm", r.mel.slaney_norm},
                    {"floor", r.mel.floor}, {"window", "periodic Hann"}, {"center", "reflect padding by n_fft / 2"}};
    j["crop_samples"] = (r.shape[2] - 1) * r.mel.hop;
    j["mean"] = shortest(r.mean);
    j["std"] = shortest(r.std);
  }
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
                              const datasets::AugmentConfig& normalization, const datasets::LogMelConfig* mel) {
  InputRecord r;
  r.log_mel = mel != nullptr;
  r.images = shape.size() == 3 && !r.log_mel;
  r.shape = shape;
  r.source = source;
  if (r.log_mel) {
    r.mel = *mel;
    r.mean = normalization.mean;
    r.std = normalization.std;
  } else if (r.images) {
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
  if (kind != "images" && kind != "features" && kind != "log-mel")
    throw ConfigError(path + ": \"kind\" is " + kind.dump() + ", expected \"images\", \"log-mel\" or \"features\"");
  r.images = kind == "images";
  r.log_mel = kind == "log-mel";
  const nlohmann::json& shape = field("shape");
  const size_t rank = r.images || r.log_mel ? 3 : 1;
  if (!shape.is_array() || shape.size() != rank)
    throw ConfigError(path + ": \"shape\" is " + shape.dump() + ", expected " + std::to_string(rank) + " sizes");
  for (const auto& d : shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (int64_t(1) << 24))
      throw ConfigError(path + ": \"shape\" holds " + d.dump() + ", expected sizes in [1, 2^24]");
    r.shape.push_back(d.get<int64_t>());
  }
  if (field("source").is_string()) r.source = j.at("source").get<std::string>();
  if (r.log_mel) {
    const nlohmann::json& m = field("log_mel");
    const auto number = [&](const char* key, double lo, double hi) {
      if (!m.is_object() || !m.contains(key) || !m.at(key).is_number() || !(m.at(key).get<double>() >= lo) ||
          !(m.at(key).get<double>() <= hi))
        throw ConfigError(path + ": \"log_mel\".\"" + key + "\" is missing or outside [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
      return m.at(key).get<double>();
    };
    r.mel.sample_rate = int(number("sample_rate", 1000, 768000));
    r.mel.n_fft = int(number("n_fft", 16, 65536));
    r.mel.hop = int(number("hop", 1, 65536));
    r.mel.n_mels = int(number("n_mels", 1, 1024));
    r.mel.f_min = number("f_min", 0, 384000);
    r.mel.f_max = number("f_max", 1, 384000);
    r.mel.floor = number("floor", 1e-30, 1);
    if (!m.contains("scale") || (m.at("scale") != "htk" && m.at("scale") != "slaney"))
      throw ConfigError(path + ": \"log_mel\".\"scale\" is missing or not \"htk\" / \"slaney\"");
    r.mel.scale = m.at("scale") == "htk" ? datasets::MelScale::htk : datasets::MelScale::slaney;
    if (!m.contains("slaney_norm") || !m.at("slaney_norm").is_boolean())
      throw ConfigError(path + ": \"log_mel\".\"slaney_norm\" is missing or not true / false");
    r.mel.slaney_norm = m.at("slaney_norm").get<bool>();
    if (r.shape[0] != 1 || r.shape[1] != r.mel.n_mels)
      throw ConfigError(path + ": \"shape\" " + shape.dump() + " is not (1, n_mels = " + std::to_string(r.mel.n_mels) + ", frames)");
  }
  if (r.images || r.log_mel) {
    const int64_t values = r.log_mel ? r.shape[1] : r.shape[0];
    for (const char* key : {"mean", "std"}) {
      const nlohmann::json& v = field(key);
      if (!v.is_array() || int64_t(v.size()) != values)
        throw ConfigError(path + ": \"" + key + "\" is " + v.dump() + ", expected one number per " +
                          (r.log_mel ? "mel band (" : "channel (") + std::to_string(values) + ")");
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
