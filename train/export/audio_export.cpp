#include "train/export/audio_export.hpp"

#include "nn/io/atomic_file.hpp"
#include "nn/io/checkpoint.hpp"
#include "nn/io/safetensors.hpp"
#include "nn/models.hpp"
#include "train/elapsed.hpp"
#include "train/export/audio_codegen.hpp"
#include "train/export/check.hpp"
#include "train/run_folder.hpp"

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace torus::train::exportq {

namespace fs = std::filesystem;

namespace {

void say(std::FILE* log, const std::string& text) {
  if (log) std::fprintf(log, "torus-export: %s\n", text.c_str());
}

// config.toml's value at "section.key" as T; ExportError naming the file and key when it is
// missing or of another type.
template <typename T>
T required(const toml::table& root, const std::string& path, const std::string& file, const char* expected) {
  const auto dot = path.find('.');
  const std::optional<T> v = root[path.substr(0, dot)][path.substr(dot + 1)].template value<T>();
  if (!v) throw ExportError(file + ": " + path + " is missing or not " + expected);
  return *v;
}

int in_range(std::int64_t v, std::int64_t lo, std::int64_t hi, const std::string& path, const std::string& file) {
  if (v < lo || v > hi)
    throw ExportError(file + ": " + path + " = " + std::to_string(v) + ", expected " + std::to_string(lo) + " to " + std::to_string(hi));
  return int(v);
}

std::vector<float> band_values(const nlohmann::json& j, const char* key, const std::string& file) {
  if (!j.contains(key) || !j[key].is_array()) throw ExportError(file + ": \"" + key + "\" is missing or not an array");
  std::vector<float> v;
  for (const auto& x : j[key]) {
    if (!x.is_number()) throw ExportError(file + ": \"" + key + "\" holds a value that is not a number");
    v.push_back(x.get<float>());
  }
  return v;
}

// The network with the checkpoint's weights and batch-norm buffers, in evaluation mode.
std::unique_ptr<nn::Network<float>> load_audio_cnn(const AudioRun& run, const std::string& ck_path, nn::io::Checkpoint& ck) {
  ck = nn::io::read_checkpoint(ck_path);
  const auto& a = ck.architecture;
  const auto field = [&](const char* k) { return a.is_object() && a.contains(k) ? a[k].dump() : std::string("?"); };
  if (field("arch") != "\"audio_cnn\"" || field("head") != "\"torusN\"" || field("dim") != std::to_string(run.dim) ||
      field("width") != std::to_string(run.width))
    throw ExportError("checkpoint " + ck_path + ": its architecture " + a.dump() + " is not " + run.config_path +
                      "'s audio_cnn / torusN with width " + std::to_string(run.width) + " and D " + std::to_string(run.dim));
  std::mt19937_64 rng(std::uint64_t(run.seed));
  auto net = nn::make_audio_cnn<float>(1, run.width, nn::OutputSpec::embedding(nn::HeadMode::torusN, run.dim), rng);
  nn::io::restore_parameters(ck, nn::io::kModelPrefix, net->parameters());
  const auto buffers = nn::io::tensors_under(ck, nn::io::kBufferPrefix);
  for (const auto& [name, t] : net->buffers()) {
    const auto it = buffers.find(name);
    if (it == buffers.end() || !(it->second.shape() == t->shape()))
      throw ExportError("checkpoint " + ck_path + ": buffer " + nn::io::kBufferPrefix + name + " is missing or of shape other than " +
                        t->shape().str());
    *t = it->second;
  }
  net->set_training(false);
  return net;
}

}  // namespace

bool is_audio_run(const std::string& run_dir) {
  try {
    const toml::table root = toml::parse_file(run_dir + "/config.toml");
    return root["model"]["arch"].value<std::string>() == std::optional<std::string>("audio_cnn");
  } catch (const std::exception&) {
    return false;
  }
}

AudioRun read_audio_run(const std::string& run_dir) {
  AudioRun r;
  r.config_path = run_dir + "/config.toml";
  toml::table root;
  try {
    r.config_text = nn::io::read_file(r.config_path);
    root = toml::parse(r.config_text, r.config_path);
  } catch (const toml::parse_error& e) {
    throw ExportError(r.config_path + ": " + std::string(e.description()));
  }
  const std::string& f = r.config_path;
  r.head = required<std::string>(root, "model.head", f, "a string");
  if (r.head != "torusN")
    throw ExportError(f + ": model.arch = \"audio_cnn\", model.head = \"" + r.head +
                      "\": torus-export supports the audio CNN with model.head = \"torusN\" only");
  r.width = in_range(required<std::int64_t>(root, "model.width", f, "an integer"), 1, 1024, "model.width", f);
  r.dim = in_range(required<std::int64_t>(root, "model.dim", f, "an integer"), 2, 4096, "model.dim", f);
  if (r.dim % 2) throw ExportError(f + ": model.dim = " + std::to_string(r.dim) + ", expected an even D for torusN");
  r.seed = required<std::int64_t>(root, "train.seed", f, "an integer");
  datasets::LogMelConfig& lm = r.input.log_mel;
  lm.sample_rate = in_range(required<std::int64_t>(root, "audio.sample_rate", f, "an integer"), 1000, 768000, "audio.sample_rate", f);
  lm.n_fft = in_range(required<std::int64_t>(root, "audio.n_fft", f, "an integer"), 16, 65536, "audio.n_fft", f);
  lm.hop = in_range(required<std::int64_t>(root, "audio.hop", f, "an integer"), 1, 65536, "audio.hop", f);
  lm.n_mels = in_range(required<std::int64_t>(root, "audio.n_mels", f, "an integer"), 1, 32769, "audio.n_mels", f);
  lm.f_min = required<double>(root, "audio.f_min", f, "a number");
  lm.f_max = required<double>(root, "audio.f_max", f, "a number");
  const std::string scale = required<std::string>(root, "audio.mel_scale", f, "a string");
  if (scale != "htk" && scale != "slaney") throw ExportError(f + ": audio.mel_scale = \"" + scale + "\", expected \"htk\" or \"slaney\"");
  lm.scale = scale == "htk" ? datasets::MelScale::htk : datasets::MelScale::slaney;
  lm.slaney_norm = required<bool>(root, "audio.mel_norm", f, "a boolean");
  r.input.crop_frames = in_range(required<std::int64_t>(root, "audio.crop_frames", f, "an integer"), 16, 1 << 20, "audio.crop_frames", f);

  const std::string input_path = run_dir + "/input.json";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(nn::io::read_file(input_path));
  } catch (const nlohmann::json::exception& e) {
    throw ExportError(input_path + ": " + e.what());
  }
  if (!j.is_object() || j.value("kind", std::string()) != "log-mel")
    throw ExportError(input_path + ": \"kind\" is not \"log-mel\" (an audio run's input record)");
  if (j.contains("log_mel") && j["log_mel"].is_object()) {
    const nlohmann::json& l = j["log_mel"];
    if (l.contains("floor")) {
      if (!l["floor"].is_number()) throw ExportError(input_path + ": \"log_mel.floor\" is not a number");
      lm.floor = l["floor"].get<double>();
    }
    // The record and config.toml describe one front end; a disagreement means one of them was edited.
    const std::pair<const char*, int> settings[] = {
        {"sample_rate", lm.sample_rate}, {"n_fft", lm.n_fft}, {"hop", lm.hop}, {"n_mels", lm.n_mels}};
    for (const auto& [key, value] : settings)
      if (l.contains(key) && !(l[key].is_number_integer() && l[key].get<std::int64_t>() == value))
        throw ExportError(input_path + ": \"log_mel." + key + "\" is " + l[key].dump() + ", but " + f + " has audio." + key +
                          " = " + std::to_string(value));
  }
  r.input.mean = band_values(j, "mean", input_path);
  r.input.std = band_values(j, "std", input_path);
  try {
    validate(r.input);
  } catch (const std::invalid_argument& e) {
    throw ExportError(f + " / " + input_path + ": " + e.what());
  }
  return r;
}

ExportResult run_audio_export(const ExportOptions& o, std::FILE* log) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.calibration < 1) throw ExportError("--calibration must be at least 1");
  const AudioRun run = read_audio_run(o.run_dir);
  const std::string ck_path = checkpoint_path(o.run_dir, o.checkpoint);
  if (!fs::is_regular_file(ck_path)) throw ExportError("checkpoint " + ck_path + ": no such file");
  nn::io::Checkpoint ck;
  auto net = load_audio_cnn(run, ck_path, ck);
  say(log, "checkpoint " + ck_path + " (epoch " + std::to_string(ck.epoch) + "), audio CNN width " + std::to_string(run.width) +
               ", D = " + std::to_string(run.dim));
  const AudioCnnWeights weights = audio_cnn_weights(*net, run.input.log_mel.n_mels, run.input.crop_frames, run.width, run.dim);

  // The training side has no audio loader yet: calibrate on synthetic calls at the run's rate.
  const int n_cal = std::min(o.calibration, 128);
  const std::vector<std::int16_t> cal = synthetic_call_crops(run.input, n_cal, 20240606);
  const AudioRanges ranges = calibrate_audio(run.input, weights, cal, o.threads);
  const std::string calibration_text =
      "min/max of each activation over " + std::to_string(n_cal) +
      " crops of synthetic calls (datasets/synthetic_calls.hpp, seed 20240606) at the run's sample rate, not training audio; "
      "input range " + std::to_string(ranges.input_lo) + " to " + std::to_string(ranges.input_hi);
  const AudioModel model = quantize_audio_model(run.input, weights, ranges);
  say(log, "calibrated: " + calibration_text);

  // Golden vectors: a few crops (each is input.samples() int16 in the C text), their integer and float codes.
  const int samples = run.input.samples();
  AudioGoldenVectors golden;
  golden.count = std::max(1, std::min(o.golden, 3));
  golden.pcm = synthetic_call_crops(run.input, golden.count, 7);
  golden.codes = audio_int_codes(model, golden.pcm, o.threads);
  golden.float_codes = audio_float_codes(run.input, weights, golden.pcm, o.threads);
  Provenance prov{run.config_text, ck_path, run.seed, ck.epoch, ck.step, calibration_text, {}};
  const GeneratedC code = generate_audio_c(model, prov, golden, o.prefix);

  const std::string out_dir = o.out_dir.empty() ? o.run_dir + "/export" : o.out_dir;
  ExportResult result;
  result.resources = code.resources;
  result.files = write_export_files(out_dir, code, float_weights_name(o.prefix), [&](const std::string& p) {
    nn::io::save_parameters(p, net->parameters(),
                            {{"arch", "audio_cnn"}, {"head", run.head}, {"dim", std::to_string(run.dim)},
                             {"width", std::to_string(run.width)}, {"checkpoint", ck_path}, {"epoch", std::to_string(ck.epoch)},
                             {"seed", std::to_string(run.seed)}});
  });
  say(log, "wrote " + out_dir + "/" + o.prefix + "_model.h, _model.c, _weights.c, _golden.c, " + float_weights_name(o.prefix) +
               "; flash " + std::to_string(code.resources.flash_bytes) + " bytes, RAM " + std::to_string(code.resources.scratch_bytes) +
               " bytes, stack at most " + std::to_string(code.resources.stack_bytes) + " bytes");
  if (!o.check) return result;

  const std::string cc = find_c_compiler();
  if (cc.empty()) throw ExportError("--check: no C compiler found (set CC or install gcc)");
  std::string tmpl = (fs::temp_directory_path() / "torus-export-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw ExportError("--check: cannot create a temporary folder in " + fs::temp_directory_path().string());
  const int K = run.dim / 2;
  const std::vector<std::int16_t> test = synthetic_call_crops(run.input, 32, 99);
  nlohmann::json report;
  try {
    const std::vector<std::uint8_t> cpp = audio_int_codes(model, test, o.threads);
    const std::vector<std::uint8_t> flt = audio_float_codes(run.input, weights, test, o.threads);
    const CRunResult c = compile_and_run_audio_c(cc, out_dir, tmpl, test, samples, K, o.prefix, 3);
    report["c_compiled"] = c.compiled;
    if (!c.compiled) report["compile_log"] = c.compile_log;
    const bool same = c.compiled && c.codes == cpp;
    report["self_test"] = c.self_test;
    report["crops"] = test.size() / size_t(samples);
    report["c_vs_cpp_identical"] = same;
    report["no_float_tokens"] = c.no_float_tokens;
    report["general_regs_only_tried"] = c.general_regs_tried;
    report["general_regs_only_compiles"] = c.general_regs_only;
    report["seconds_per_crop_c_O2"] = c.seconds_per_input;
    report["int_vs_float_identical_fraction"] = identical_fraction(cpp, flt);
    report["int_vs_float_within_one_step_fraction"] = within_steps_fraction(cpp, flt, 1);
    report["int_vs_float_within_two_steps_fraction"] = within_steps_fraction(cpp, flt, 2);
    report["calibration"] = calibration_text;
    report["checkpoint"] = ck_path;
    report["prefix"] = code.prefix;
    report["flash_bytes"] = code.resources.flash_bytes;
    report["scratch_bytes"] = code.resources.scratch_bytes;
    report["stack_bytes_bound"] = code.resources.stack_bytes;
    report["passed"] = c.compiled && c.self_test == 0 && same;
    report["seconds_total"] = seconds_since(t0);
  } catch (...) {
    fs::remove_all(tmpl);
    throw;
  }
  fs::remove_all(tmpl);
  nn::io::write_file_atomic(out_dir + "/" + check_report_name(code.prefix), report.dump(2) + "\n");
  result.check = report;
  result.check_passed = report["passed"].get<bool>();
  result.files.push_back(out_dir + "/" + check_report_name(code.prefix));
  return result;
}

}  // namespace torus::train::exportq
