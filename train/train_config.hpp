// torus-train's configuration: one struct, and one table of settings that drives everything done
// with it. Each setting has a dotted key ("optim.lr"), which is its name in the TOML file
// ([optim] lr = 0.05) and its flag (--optim.lr 0.05); the same parser and the same range check
// serve both, so a value is valid in a file exactly when it is valid on the command line. Flags
// win over the file. The resolved configuration is written back as TOML into the run folder, and
// the part that fixes the network's shape goes into checkpoints as their architecture.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace CLI {
class App;
}

namespace torus::train {

// A bad key or value; the message names where it came from (file and key, or the flag).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TrainConfig {
  // [data]
  std::string dataset = "fashion-mnist";  // fashion-mnist mnist cifar10 cifar100 folder features audio-folder
  std::string path;                       // empty: the dataset's standard location
  std::string test_path;                  // folder / features: the test split ("" = none)
  std::string labels;                     // features: labels (.npy or .csv) of `path`
  std::string test_labels;                // features: labels of `test_path`
  std::string cifar100_labels = "fine";   // fine or coarse
  int64_t image_size = 0;                 // folder: side images are resized to (0: what model.arch takes)
  int64_t channels = 0;                   // folder: 1 or 3 (0: what model.arch takes)
  int64_t holdout = 5000;                 // most training samples held out as per-epoch queries (0: use the test split)
  double holdout_fraction = 0.1;          // held out: this fraction of the training samples, at most `holdout` (0: exactly `holdout`)
  int64_t references = 10000;             // training images used as per-epoch references (0: all)
  int64_t fewshot_classes = 0;            // audio-folder: classes held out of training for few-shot evaluation
  bool skip_bad = false;                  // audio-folder: report and leave out clips that fail to decode
  std::string cache;                      // audio-folder: feature cache folder ("": ~/.cache/torus/log-mel)
  // [audio] the log-mel front end (method.md 13) and the crop the network sees
  int64_t sample_rate = 16000;
  int64_t n_fft = 1024;
  int64_t hop = 320;
  int64_t n_mels = 128;
  double f_min = 50, f_max = 8000;
  std::string mel_scale = "htk";  // htk slaney
  bool mel_norm = false;          // Slaney's area normalisation of the filters
  int64_t crop_frames = 101;      // frames of one input: 1 + 32000 / 320, two seconds at the defaults
  // [model]
  std::string arch = "convnet";  // convnet lenet5 mlp resnet20 vgg11_bn head
  std::string head = "torusN";   // none sphere torusN torusC spherization
  int64_t dim = 16;              // D
  int64_t width = 16;            // resnet20: first stage width; vgg11_bn: first width (doubling)
  std::string init;              // safetensors file of initial weights ("": PyTorch's default initialisation)
  // [loss]
  double temperature = 0.1;
  double base_temperature = 0.07;
  double koleo = 0.0;
  int64_t views = 2;
  std::string matryoshka;          // nested circle counts "1,2,4,8": the loss summed over each prefix ("": off)
  std::string matryoshka_weights;  // their weights "1,1,1,1" ("": all 1)
  // [optim]
  std::string optimizer = "sgd";  // sgd adam adamw
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999;
  std::string schedule = "cosine";  // constant cosine step multistep
  double lr_floor = 0.0;
  int64_t warmup = 0;
  int64_t step_size = 10;
  double gamma = 0.1;
  std::string milestones;  // multistep: "30,60,90"
  double clip_norm = 0.0;   // 0: off
  double clip_value = 0.0;  // 0: off
  // [train]
  int64_t epochs = 10;
  int64_t batch = 256;
  double ema = 0.0;  // decay per step; 0: off
  int64_t seed = 0;
  int64_t threads = 2;
  bool sync_bn = false;  // data-parallel: batch-norm statistics over the global batch, not each rank's part
  // [augment]
  int64_t crop_padding = 0;
  double hflip = 0.0;
  double crop_scale_min = 0.0;  // random resized crop with scale (crop_scale_min, 1); 0: off
  double rotate = 0.0;          // degrees, each way
  double rotate_p = 0.5;
  double jitter = 0.0;          // brightness = contrast = saturation = jitter, hue = jitter / 4
  double jitter_p = 0.8;
  double grey = 0.0;
  int64_t time_shift = 0;       // audio: circular shift by up to this many frames
  double gain_db = 0.0;         // audio: random gain within +-this many dB
  double noise_p = 0.0;         // audio: probability of additive white noise
  double snr_min = 5.0, snr_max = 30.0;  // audio: its signal-to-noise ratio range, dB
  double mix_p = 0.0;           // audio: probability of mixing in another clip of the same class
  int64_t time_masks = 0, time_mask = 0;  // audio: SpecAugment time masks and their most frames
  int64_t freq_masks = 0, freq_mask = 0;  // audio: SpecAugment frequency masks and their most bands
  // [plot]
  int64_t circle_x = 0;   // the circle (or coordinate) on the embedding scatter's x axis
  int64_t circle_y = -1;  // and on its y axis; -1: the second, or the first when D leaves one (plot_circle_y)
};

// One setting of the table. Numbers carry their closed range; strings may list their choices.
struct Setting {
  std::string key;  // "section.name"
  std::string help;
  std::variant<std::string TrainConfig::*, int64_t TrainConfig::*, double TrainConfig::*, bool TrainConfig::*> field;
  double min = 0, max = 0;           // numbers
  std::vector<std::string> choices;  // strings; empty = free text
  bool min_exclusive = false;        // (min, max] instead of [min, max]: a rate that must be positive
  bool is_path = false;              // a file or folder: stored absolute in the run folder
};

const std::vector<Setting>& settings();

// Reads a TOML file into `config`. Unknown sections or keys, wrong types and out-of-range values
// throw ConfigError naming the file, the key and what is valid.
void apply_toml_file(TrainConfig& config, const std::string& path);

// Adds --<key> for every setting. Values land in `pending` (key -> text) and are applied by
// apply_flags after parsing, so flags are checked by the same rules as the file and win over it.
void add_setting_flags(CLI::App& app, std::vector<std::pair<std::string, std::string>>& pending);
void apply_flags(TrainConfig& config, const std::vector<std::pair<std::string, std::string>>& pending);

// Makes every path setting absolute (from the working directory), so the run folder's config.toml
// works from any directory and after the folder is moved or copied.
void resolve_paths(TrainConfig& config);

// The scatter's y circle (or coordinate): plot.circle_y, or for -1 the second one, the first when
// the head has only one (torusN with D = 2).
int64_t plot_circle_y(const TrainConfig& config);

// Checks between settings (the head's dimension against its mode, the views ...).
void validate(const TrainConfig& config);

// Every setting, by section, as TOML (what the run folder keeps).
std::string to_toml(const TrainConfig& config);

// What a resumed run may change: train.epochs, train.threads and train.sync_bn (how it is spread over
// threads and ranks); every other setting is fixed.
bool changeable_on_resume(const std::string& key);
// Every resolved setting as {"key": "TOML value"}: checkpoints record it so that a resumed run can
// refuse a config.toml edited since (a changed learning rate would silently give another run).
nlohmann::json settings_record(const TrainConfig& config);
// ConfigError naming config_path, the key and both values when a fixed setting differs from the
// record (null: a checkpoint that records none, accepted as before).
void check_resumed_settings(const TrainConfig& config, const std::string& config_path, const nlohmann::json& recorded,
                            const std::string& checkpoint_path);

// What fixes the network's parameters: arch, head, dim, width, dataset, input shape. Checkpoints
// carry it and a checkpoint is refused for a configuration that differs.
nlohmann::json architecture(const TrainConfig& config, const std::vector<int64_t>& input_shape);

}  // namespace torus::train
