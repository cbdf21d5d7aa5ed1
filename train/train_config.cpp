#include "train/train_config.hpp"
#include "train/nearest_name.hpp"
#include "train/utf8.hpp"

#include "nn/head_mode.hpp"
#include "nn/matryoshka.hpp"
#include "train/eval/head_modes.hpp"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

namespace torus::train {

namespace {
using C = TrainConfig;
constexpr double kBig = 1e12;

template <typename M>
Setting entry(std::string key, std::string help, M member, double min = 0, double max = 0) {
  return Setting{std::move(key), std::move(help), member, min, max, {}};
}
// A file or folder.
Setting path(Setting s) {
  s.is_path = true;
  return s;
}
// A number that must be above `min`, not merely at least it.
Setting above(Setting s) {
  s.min_exclusive = true;
  return s;
}
template <typename M>
Setting entry(std::string key, std::string help, M member, std::vector<std::string> choices) {
  return Setting{std::move(key), std::move(help), member, 0, 0, std::move(choices)};
}

std::vector<Setting> make_settings() {
  const std::vector<std::string> heads = eval::head_mode_names();
  return {
      entry("data.dataset", "fashion-mnist, mnist, cifar10, cifar100, folder (one subfolder per class), features (.npy) or audio-folder (one subfolder of recordings per class, or a CSV manifest)", &C::dataset, {"fashion-mnist", "mnist", "cifar10", "cifar100", "folder", "features", "audio-folder"}),
      path(entry("data.path", "training data: IDX / CIFAR folder, image folder, features .npy, audio folder or manifest .csv (empty: standard location)", &C::path)),
      path(entry("data.test_path", "folder / features / audio-folder: the test split (a folder, .npy or manifest .csv)", &C::test_path)),
      path(entry("data.labels", "features: labels of data.path (.npy or .csv)", &C::labels)),
      path(entry("data.test_labels", "features: labels of data.test_path", &C::test_labels)),
      entry("data.cifar100_labels", "cifar100: fine (100 classes) or coarse (20)", &C::cifar100_labels, {"fine", "coarse"}),
      entry("data.image_size", "folder: side length images are resized to (0: what model.arch takes, 28 or 32)", &C::image_size, 0, 1024),
      entry("data.channels", "folder: 1 (grey) or 3 (RGB); 0: what model.arch takes", &C::channels, 0, 3),
      entry("data.holdout", "most training samples held out as per-epoch queries (0: measure on the test split)", &C::holdout, 0, kBig),
      entry("data.holdout_fraction", "fraction of the training samples held out, at most data.holdout (0: exactly data.holdout)", &C::holdout_fraction, 0, 0.9),
      entry("data.references", "training images used as per-epoch references (0: all)", &C::references, 0, kBig),
      entry("data.fewshot_classes", "audio-folder: classes held out of training, never seen, for few-shot evaluation (torus-embed's fewshot split)", &C::fewshot_classes, 0, 100000),
      entry("data.skip_bad", "audio-folder: report and leave out clips that cannot be decoded instead of stopping", &C::skip_bad),
      path(entry("data.cache", "audio-folder: folder of cached log-mel features (\"\": ~/.cache/torus/log-mel)", &C::cache)),
      entry("audio.sample_rate", "rate every clip is resampled to, Hz", &C::sample_rate, 1000, 768000),
      entry("audio.n_fft", "FFT and window length, samples (even)", &C::n_fft, 16, 65536),
      entry("audio.hop", "samples between frames", &C::hop, 1, 65536),
      entry("audio.n_mels", "mel bands", &C::n_mels, 1, 1024),
      entry("audio.f_min", "lowest mel filter edge, Hz", &C::f_min, 0, 384000),
      entry("audio.f_max", "highest mel filter edge, Hz (at most half the sample rate)", &C::f_max, 1, 384000),
      entry("audio.mel_scale", "mel scale of the filterbank (torchaudio's mel_scale)", &C::mel_scale, {"htk", "slaney"}),
      entry("audio.mel_norm", "Slaney area normalisation of the filters (torchaudio's norm=\"slaney\")", &C::mel_norm),
      entry("audio.crop_frames", "frames of one network input: random crops in training, the centre crop in evaluation", &C::crop_frames, 1, 100000),
      entry("model.arch", "convnet (benchmarks.md's FmnistConvNet), lenet5, mlp, resnet20, vgg11_bn, audio_cnn (spectrograms of any size), head (features only)", &C::arch, {"convnet", "lenet5", "mlp", "resnet20", "vgg11_bn", "audio_cnn", "head"}),
      entry("model.head", "output geometry", &C::head, heads),
      entry("model.dim", "embedding dimension D (torusN: even, D/2 circles)", &C::dim, 2, 4096),
      entry("model.width", "resnet20: first stage width; vgg11_bn and audio_cnn: first width, doubling per stage", &C::width, 1, 1024),
      path(entry("model.init", "safetensors file of initial weights, names as the model's (\"\": PyTorch's default initialisation)", &C::init)),
      entry("loss.temperature", "SupCon temperature tau", &C::temperature, 1e-4, 100),
      entry("loss.base_temperature", "SupCon base temperature (the loss carries tau / base)", &C::base_temperature, 1e-4, 100),
      entry("loss.koleo", "KoLeo weight", &C::koleo, 0, 1e4),
      entry("loss.matryoshka", "Matryoshka torus: circle counts \"1,2,4,8\"; SupCon (and KoLeo) summed over the first k circles for each k, so codes can be cut (\"\": off)", &C::matryoshka),
      entry("loss.matryoshka_weights", "weights of those levels, \"1,1,0.5,0.5\" (\"\": all 1)", &C::matryoshka_weights),
      entry("loss.views", "views per image (2: two augmented views, 1: single view)", &C::views, 1, 8),
      entry("optim.optimizer", "sgd, adam or adamw", &C::optimizer, {"sgd", "adam", "adamw"}),
      above(entry("optim.lr", "base learning rate (0 would train nothing)", &C::lr, 0, 100)),
      entry("optim.momentum", "sgd momentum", &C::momentum, 0, 0.9999),
      entry("optim.nesterov", "sgd: Nesterov momentum", &C::nesterov),
      entry("optim.weight_decay", "weight decay (sgd, adam: L2 in the gradient; adamw: decoupled)", &C::weight_decay, 0, 10),
      entry("optim.beta1", "adam beta1", &C::beta1, 0, 0.99999),
      entry("optim.beta2", "adam beta2", &C::beta2, 0, 0.99999999),
      entry("optim.schedule", "learning rate per epoch: constant, cosine, step or multistep", &C::schedule, {"constant", "cosine", "step", "multistep"}),
      entry("optim.lr_floor", "cosine: final learning rate", &C::lr_floor, 0, 100),
      entry("optim.warmup", "epochs of linear warm-up", &C::warmup, 0, 100000),
      entry("optim.step_size", "step: epochs between decays", &C::step_size, 1, 100000),
      entry("optim.gamma", "step / multistep: decay factor", &C::gamma, 0, 1),
      entry("optim.milestones", "multistep: increasing epochs, comma separated (\"30,60\")", &C::milestones),
      entry("optim.clip_norm", "clip gradients to this global L2 norm (0: off)", &C::clip_norm, 0, kBig),
      entry("optim.clip_value", "clamp gradient elements to +-this (0: off)", &C::clip_value, 0, kBig),
      entry("train.epochs", "epochs", &C::epochs, 1, 100000),
      entry("train.batch", "images per step (each seen `views` times)", &C::batch, 2, 65536),
      entry("train.ema", "EMA decay per step (0: off); evaluation and the best checkpoint use the average", &C::ema, 0, 0.999999),
      entry("train.seed", "seed of initialisation, data order and augmentation", &C::seed, 0, 4294967295.0),
      entry("train.threads", "threads (1: bit-for-bit repeatable)", &C::threads, 1, 256),
      entry("train.sync_bn", "under mpirun: batch-norm statistics over the global batch (off: each rank's own part, as PyTorch DDP)", &C::sync_bn),
      entry("augment.crop_padding", "random crop with this zero padding (0: off)", &C::crop_padding, 0, 64),
      entry("augment.hflip", "probability of a horizontal flip", &C::hflip, 0, 1),
      entry("augment.crop_scale_min", "random resized crop, area scale in (this, 1) (0: off)", &C::crop_scale_min, 0, 1),
      entry("augment.rotate", "random rotation up to +-this many degrees (0: off)", &C::rotate, 0, 180),
      entry("augment.rotate_p", "probability of the rotation", &C::rotate_p, 0, 1),
      entry("augment.jitter", "colour jitter strength: brightness, contrast, saturation; hue a quarter (0: off)", &C::jitter, 0, 1),
      entry("augment.jitter_p", "probability of the colour jitter", &C::jitter_p, 0, 1),
      entry("augment.grey", "probability of turning an RGB image grey", &C::grey, 0, 1),
      entry("augment.time_shift", "audio: circular time shift by up to this many frames (0: off)", &C::time_shift, 0, 100000),
      entry("augment.gain_db", "audio: random gain within +-this many dB (0: off)", &C::gain_db, 0, 60),
      entry("augment.noise_p", "audio: probability of additive white noise", &C::noise_p, 0, 1),
      entry("augment.snr_min", "audio: lowest signal-to-noise ratio of that noise, dB", &C::snr_min, -30, 100),
      entry("augment.snr_max", "audio: highest signal-to-noise ratio of that noise, dB", &C::snr_max, -30, 100),
      entry("augment.mix_p", "audio: probability of mixing in another clip of the same class", &C::mix_p, 0, 1),
      entry("augment.time_masks", "audio: SpecAugment time masks per view", &C::time_masks, 0, 100),
      entry("augment.time_mask", "audio: most frames of one time mask", &C::time_mask, 0, 100000),
      entry("augment.freq_masks", "audio: SpecAugment frequency masks per view", &C::freq_masks, 0, 100),
      entry("augment.freq_mask", "audio: most bands of one frequency mask", &C::freq_mask, 0, 1024),
      entry("plot.circle_x", "circle (torusN) or coordinate shown on the scatter's x axis", &C::circle_x, 0, 4095),
      entry("plot.circle_y", "circle (torusN) or coordinate shown on the scatter's y axis (-1: the second, or the first when there is one)", &C::circle_y, -1, 4095),
  };
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? sep : "") + items[i];
  return s;
}

// The shortest text that reads back to v, as the docs write it: 0.9999, not 0.99990000000000001.
std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(int64_t(v));
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string range_text(const Setting& s) {
  return (s.min_exclusive ? "(" : "[") + number_text(s.min) + ", " + number_text(s.max) + "]";
}

// One parsed value, from the TOML file or from a flag's text.
using Value = std::variant<std::string, int64_t, double, bool>;

void assign(TrainConfig& config, const Setting& s, const Value& v, const std::string& where) {
  auto bad = [&](const std::string& expected, const std::string& got) {
    return ConfigError(where + ": expected " + expected + ", got " + got);
  };
  std::visit(
      [&](auto member) {
        using M = std::remove_reference_t<decltype(config.*member)>;
        if constexpr (std::is_same_v<M, std::string>) {
          const auto* text = std::get_if<std::string>(&v);
          if (!text) throw bad("a string", "another type");
          if (!s.choices.empty() && std::find(s.choices.begin(), s.choices.end(), *text) == s.choices.end())
            throw bad("one of " + join(s.choices), "\"" + *text + "\"");
          config.*member = *text;
        } else if constexpr (std::is_same_v<M, bool>) {
          const auto* b = std::get_if<bool>(&v);
          if (!b) throw bad("true or false", "another type");
          config.*member = *b;
        } else {
          double x;
          if (const auto* i = std::get_if<int64_t>(&v)) {
            x = double(*i);
          } else if (const auto* d = std::get_if<double>(&v); d && std::is_same_v<M, double>) {
            x = *d;
          } else {
            throw bad(std::is_same_v<M, double> ? "a number in " + range_text(s) : "an integer in " + range_text(s),
                      "another type");
          }
          if (!((s.min_exclusive ? x > s.min : x >= s.min) && x <= s.max)) throw bad("a value in " + range_text(s), number_text(x));
          config.*member = M(x);
        }
      },
      s.field);
}

// A flag's text as the value type its setting holds.
Value parse_text(const Setting& s, const std::string& text, const std::string& where) {
  return std::visit(
      [&](auto member) -> Value {
        using M = std::remove_reference_t<decltype(std::declval<TrainConfig&>().*member)>;
        if constexpr (std::is_same_v<M, std::string>) {
          return text;
        } else if constexpr (std::is_same_v<M, bool>) {
          if (text == "true" || text == "1" || text == "yes") return true;
          if (text == "false" || text == "0" || text == "no") return false;
          throw ConfigError(where + ": expected true or false, got \"" + text + "\"");
        } else {
          if constexpr (std::is_same_v<M, int64_t>) {
            int64_t i = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
            if (ec == std::errc() && end == text.data() + text.size()) return i;
          } else {
            char* end = nullptr;
            const double d = std::strtod(text.c_str(), &end);
            if (!text.empty() && end == text.c_str() + text.size()) return d;
          }
          throw ConfigError(where + ": expected " + (std::is_same_v<M, double> ? "a number" : "an integer") + " in " +
                            range_text(s) + ", got \"" + text + "\"");
        }
      },
      s.field);
}

const Setting* find_setting(const std::string& key) {
  for (const Setting& s : settings())
    if (s.key == key) return &s;
  return nullptr;
}

std::vector<std::string> sections() {
  std::vector<std::string> out;
  for (const Setting& s : settings()) {
    const std::string sec = s.key.substr(0, s.key.find('.'));
    if (std::find(out.begin(), out.end(), sec) == out.end()) out.push_back(sec);
  }
  return out;
}

std::vector<std::string> keys_of(const std::string& section) {
  std::vector<std::string> out;
  for (const Setting& s : settings())
    if (s.key.compare(0, section.size() + 1, section + ".") == 0) out.push_back(s.key.substr(section.size() + 1));
  return out;
}

std::string toml_value(const TrainConfig& config, const Setting& s) {
  return std::visit(
      [&](auto member) -> std::string {
        const auto& v = config.*member;
        using M = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<M, std::string>) {
          std::ostringstream os;
          os << toml::value<std::string>(v);  // quoted and escaped by toml++
          return os.str();
        } else if constexpr (std::is_same_v<M, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<M, int64_t>) {
          return std::to_string(v);
        } else {
          // The shortest text that reads back to the same double, with a decimal point so TOML
          // reads it as a float: 0.05, not 0.050000000000000003 or 5e-02.
          char buf[64];
          const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
          std::string text(buf, end);
          if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
          return text;
        }
      },
      s.field);
}
}  // namespace

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = make_settings();
  return table;
}

void apply_toml_file(TrainConfig& config, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw ConfigError(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": not valid TOML: " +
                      std::string(e.description()));
  }
  for (auto&& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    const auto* table = section_node.as_table();
    const auto valid_keys = keys_of(section);
    if (!table || valid_keys.empty()) {
      const std::string near = nearest_name(section, sections());
      throw ConfigError(path + ": unknown section or top-level key \"" + section + "\"" +
                        (near.empty() ? "" : " (did you mean [" + near + "]?)") + "; sections are [" + join(sections(), "], [") + "]");
    }
    for (auto&& [key, node] : *table) {
      const std::string name = section + "." + std::string(key.str());
      const Setting* s = find_setting(name);
      const std::string where = path + ":" + std::to_string(node.source().begin.line) + ": " + name;
      if (!s) {
        const std::string near = nearest_name(std::string(key.str()), valid_keys);
        throw ConfigError(where + ": unknown key" + (near.empty() ? "" : " (did you mean " + near + "?)") + "; [" + section +
                          "] holds " + join(valid_keys));
      }
      Value v;
      if (auto x = node.as_string()) v = x->get();
      else if (auto i = node.as_integer()) v = i->get();
      else if (auto d = node.as_floating_point()) v = d->get();
      else if (auto b = node.as_boolean()) v = b->get();
      else throw ConfigError(where + ": expected a string, number or boolean");
      assign(config, *s, v, where);
    }
  }
}

void add_setting_flags(CLI::App& app, std::vector<std::pair<std::string, std::string>>& pending) {
  const TrainConfig defaults;
  for (const Setting& s : settings()) {
    std::string help = s.help;
    const bool is_string = std::holds_alternative<std::string TrainConfig::*>(s.field);
    const bool is_bool = std::holds_alternative<bool TrainConfig::*>(s.field);
    const bool is_int = std::holds_alternative<int64_t TrainConfig::*>(s.field);
    if (!s.choices.empty()) help += " {" + join(s.choices, ",") + "}";
    else if (!is_string && !is_bool) help += " " + range_text(s);
    // toml_value is the default as config.toml writes it; '' for an empty string reads better as "".
    std::string default_text = toml_value(defaults, s);
    if (default_text == "''") default_text = "\"\"";
    help += " (default " + default_text + ")";
    const std::string type = !s.choices.empty() ? "CHOICE" : s.is_path ? "PATH" : is_string ? "TEXT" : is_bool ? "BOOL" : is_int ? "INT" : "FLOAT";
    const std::string key = s.key;
    app.add_option_function<std::string>(
           "--" + key, [&pending, key](const std::string& text) { pending.emplace_back(key, text); }, help)
        ->type_name(type)
        ->group("Settings (also [section] key = value in --config)");
  }
}

void apply_flags(TrainConfig& config, const std::vector<std::pair<std::string, std::string>>& pending) {
  for (const auto& [key, text] : pending) {
    const Setting* s = find_setting(key);
    const std::string where = "--" + key;
    assign(config, *s, parse_text(*s, text, where), where);
  }
}

int64_t plot_circle_y(const TrainConfig& c) {
  if (c.circle_y >= 0) return c.circle_y;
  const int64_t circles = c.head == "torusN" ? c.dim / 2 : c.dim;
  return circles > 1 ? 1 : 0;
}

void validate(const TrainConfig& c) {
  // config.toml can only hold UTF-8: a path with another byte would be written escaped, and a
  // resumed run or torus-embed would then look for a different file.
  for (const Setting& s : settings())
    if (const auto* member = std::get_if<std::string TrainConfig::*>(&s.field); member && !valid_utf8(c.**member))
      throw ConfigError(s.key + ": \"" + c.**member + "\" is not valid UTF-8, which config.toml cannot hold; rename the file "
                        "or reach it through a link with a UTF-8 name");
  if (c.head == "torusN" && c.dim % 2 != 0)
    throw ConfigError("model.dim: torusN needs an even D (pairs of coordinates), got " + std::to_string(c.dim));
  if (c.channels == 2) throw ConfigError("data.channels: expected 0 (the default, 3), 1 (grey) or 3 (RGB), got 2");
  if (c.head == "spherization" && c.dim < 2)
    throw ConfigError("model.dim: spherization needs D >= 2, got " + std::to_string(c.dim));
  if ((c.arch == "head") != (c.dataset == "features"))
    throw ConfigError("model.arch: \"head\" (an embedding head alone) goes with data.dataset = \"features\" and only with it; got arch \"" +
                      c.arch + "\" with dataset \"" + c.dataset + "\"");
  if (c.dataset == "audio-folder") {
    if (c.arch != "audio_cnn" && c.arch != "resnet20")
      throw ConfigError("model.arch: \"" + c.arch + "\" cannot take log-mel spectrograms; data.dataset = \"audio-folder\" trains "
                        "audio_cnn or resnet20 (one input channel)");
    if (c.n_fft % 2 != 0) throw ConfigError("audio.n_fft: expected an even length, got " + std::to_string(c.n_fft));
    if (c.hop > c.n_fft) throw ConfigError("audio.hop: " + std::to_string(c.hop) + " is longer than audio.n_fft " + std::to_string(c.n_fft));
    if (c.n_mels > c.n_fft / 2 + 1)
      throw ConfigError("audio.n_mels: " + std::to_string(c.n_mels) + " bands, but an FFT of " + std::to_string(c.n_fft) +
                        " separates only " + std::to_string(c.n_fft / 2 + 1) + " frequencies");
    if (!(c.f_min < c.f_max) || c.f_max > double(c.sample_rate) / 2)
      throw ConfigError("audio.f_min / audio.f_max: expected 0 <= f_min < f_max <= " + std::to_string(c.sample_rate / 2) +
                        " (half of audio.sample_rate), got " + std::to_string(c.f_min) + " and " + std::to_string(c.f_max));
    if (c.snr_min > c.snr_max)
      throw ConfigError("augment.snr_min: " + std::to_string(c.snr_min) + " dB is above augment.snr_max " + std::to_string(c.snr_max));
  } else if (c.fewshot_classes > 0) {
    throw ConfigError("data.fewshot_classes: held-out classes are an audio-folder setting; got dataset \"" + c.dataset + "\"");
  }
  if ((c.dataset == "folder" || c.dataset == "features" || c.dataset == "audio-folder") && c.path.empty())
    throw ConfigError("data.path: dataset \"" + c.dataset + "\" needs a path");
  if (c.dataset == "features" && c.labels.empty()) throw ConfigError("data.labels: dataset \"features\" needs a labels file");
  if (c.dataset == "features" && !c.test_path.empty() && c.test_labels.empty())
    throw ConfigError("data.test_labels: data.test_path is set, so its labels are needed too");
  if (c.schedule == "multistep" && c.milestones.empty())
    throw ConfigError("optim.milestones: the multistep schedule needs milestones, e.g. \"30,60\"");
  if (c.warmup >= c.epochs && c.warmup > 0)
    throw ConfigError("optim.warmup: " + std::to_string(c.warmup) + " warm-up epochs leave none of the " +
                      std::to_string(c.epochs) + " epochs for the schedule");
  if (c.matryoshka.empty() && !c.matryoshka_weights.empty())
    throw ConfigError("loss.matryoshka_weights: weights of levels, but loss.matryoshka lists none");
  if (!c.matryoshka.empty()) {
    if (c.head != "torusN" && c.head != "torusC")
      throw ConfigError("loss.matryoshka: nested prefixes are circles of a torus head (torusN, torusC), not of " + c.head);
    try {
      nn::parse_circle_levels(c.matryoshka, c.matryoshka_weights, nn::head_circles(nn::parse_head_mode(c.head), c.dim));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string(c.matryoshka_weights.empty() ? "loss.matryoshka: " : "loss.matryoshka / loss.matryoshka_weights: ") + e.what());
    }
  }
  const int64_t circles = c.head == "torusN" ? c.dim / 2 : c.dim;
  if (c.circle_x >= circles || plot_circle_y(c) >= circles)
    throw ConfigError("plot.circle_x / plot.circle_y: must be below " + std::to_string(circles) + " for head " + c.head +
                      " with D " + std::to_string(c.dim));
}

std::string to_toml(const TrainConfig& config) {
  std::string out = "# torus-train configuration, every setting resolved (file, then flags)\n";
  for (const std::string& section : sections()) {
    out += "\n[" + section + "]\n";
    for (const Setting& s : settings()) {
      if (s.key.compare(0, section.size() + 1, section + ".") != 0) continue;
      out += s.key.substr(section.size() + 1) + " = " + toml_value(config, s) + "\n";
    }
  }
  return out;
}

void resolve_paths(TrainConfig& config) {
  for (const Setting& s : settings()) {
    if (!s.is_path) continue;
    std::string& value = config.*std::get<std::string TrainConfig::*>(s.field);
    if (!value.empty()) value = std::filesystem::absolute(value).lexically_normal().string();
  }
}

// How a run is spread over threads and ranks may change between sessions; what it trains may not.
bool changeable_on_resume(const std::string& key) {
  return key == "train.epochs" || key == "train.threads" || key == "train.sync_bn";
}

nlohmann::json settings_record(const TrainConfig& config) {
  nlohmann::json out = nlohmann::json::object();
  for (const Setting& s : settings()) out[s.key] = toml_value(config, s);
  return out;
}

void check_resumed_settings(const TrainConfig& config, const std::string& config_path, const nlohmann::json& recorded,
                            const std::string& checkpoint_path) {
  if (recorded.is_null()) return;  // a checkpoint from before settings were recorded
  for (const Setting& s : settings()) {
    // A setting the checkpoint does not know came with a later torus-train and holds its default.
    const auto it = recorded.find(s.key);
    if (changeable_on_resume(s.key) || it == recorded.end()) continue;
    const std::string now = toml_value(config, s);
    if (!it->is_string() || it->get<std::string>() != now)
      throw ConfigError(config_path + ": " + s.key + " = " + now + ", but " + checkpoint_path + " was trained with " +
                        s.key + " = " + (it->is_string() ? it->get<std::string>() : it->dump()) +
                        "; a resumed run keeps its settings (only train.epochs, train.threads and train.sync_bn may change): put the "
                        "value back, or start a new run");
  }
}

nlohmann::json architecture(const TrainConfig& c, const std::vector<int64_t>& input_shape) {
  nlohmann::json a = {{"arch", c.arch}, {"head", c.head}, {"dim", c.dim}, {"input", input_shape}};
  if (c.arch == "resnet20" || c.arch == "vgg11_bn" || c.arch == "audio_cnn") a["width"] = c.width;
  return a;
}

}  // namespace torus::train
