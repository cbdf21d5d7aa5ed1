#include "train/export/audio_export.hpp"
#include "train/export/circle_prefix.hpp"

#include "nn/io/atomic_file.hpp"
#include "nn/io/checkpoint.hpp"
#include "nn/io/safetensors.hpp"
#include "nn/models.hpp"
#include "train/elapsed.hpp"
#include "train/export/audio_codegen.hpp"
#include "train/export/check.hpp"
#include "datasets/audio_file.hpp"
#include "datasets/shuffle.hpp"
#include "train/data_source.hpp"
#include "train/input_record.hpp"
#include "train/run_folder.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace torus::train::exportq {

namespace fs = std::filesystem;

namespace {

void say(std::FILE* log, const std::string& text) {
  if (log) std::fprintf(log, "torus-export: %s\n", text.c_str());
}

// Centre crops (input.samples() samples, a shorter clip repeated end to end) of `count` clips of
// the run's training split, drawn by `seed`, as int16 PCM at the run's rate: what the export
// calibrates on and checks with, the audio the network was trained on. `what` says which clips.
std::vector<std::int16_t> training_pcm_crops(const TrainConfig& config, const AudioInput& in, int count, std::uint64_t seed,
                                             std::string& what) {
  const Split train = load_split(config, "train");
  const datasets::AudioFolder& clips = train.audio;
  const int64_t n = clips.size();
  std::vector<int64_t> order = datasets::seeded_permutation(n, seed);
  if (int64_t(count) < n) order.resize(size_t(count));
  const int samples = in.samples();
  std::vector<std::int16_t> crops;
  crops.reserve(order.size() * size_t(samples));
  for (const int64_t i : order) {
    const std::string file = audio_clip_path(config, "train", clips.files[size_t(i)]);
    std::vector<float> x = datasets::read_audio(file, in.log_mel.sample_rate).samples;
    // A manifest's segment, as training saw it.
    const double start = clips.starts.empty() ? 0 : clips.starts[size_t(i)], end = clips.ends.empty() ? -1 : clips.ends[size_t(i)];
    const int64_t first = std::min<int64_t>(int64_t(x.size()) - 1, std::llround(start * in.log_mel.sample_rate));
    const int64_t last = end < 0 ? int64_t(x.size()) : std::min<int64_t>(int64_t(x.size()), std::llround(end * in.log_mel.sample_rate));
    x = std::vector<float>(x.begin() + std::max<int64_t>(first, 0), x.begin() + std::max(last, first + 1));
    const int64_t offset = int64_t(x.size()) > samples ? (int64_t(x.size()) - samples) / 2 : 0;
    for (int j = 0; j < samples; ++j) {
      const float v = x[size_t((offset + j) % int64_t(x.size()))];
      crops.push_back(std::int16_t(std::clamp(std::lround(double(v) * 32767.0), -32768L, 32767L)));
    }
  }
  what = "centre crops of " + std::to_string(order.size()) + " training clips (data.path " + config.path + ", seed " + std::to_string(seed) + ")";
  return crops;
}

// Training crops when the run's data can be read, else synthetic calls at the run's rate (a run
// folder copied without its recordings still exports; the header says which).
std::vector<std::int16_t> calibration_crops(const TrainConfig& config, const AudioInput& in, int count, std::uint64_t seed,
                                            std::string& what, std::FILE* log) {
  try {
    return training_pcm_crops(config, in, count, seed, what);
  } catch (const std::exception& e) {
    if (log) std::fprintf(log, "torus-export: the training audio cannot be read (%s); using synthetic calls instead\n", e.what());
  }
  what = std::to_string(count) + " crops of synthetic calls (datasets/synthetic_calls.hpp, seed " + std::to_string(seed) +
         ") at the run's sample rate: the training audio could not be read";
  return synthetic_call_crops(in, count, seed);
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
    return read_run_config(run_dir).arch == "audio_cnn";
  } catch (const std::exception&) {
    return false;
  }
}

AudioRun read_audio_run(const std::string& run_dir) {
  AudioRun r;
  r.config_path = run_dir + "/config.toml";
  r.config = read_run_config(run_dir);  // ConfigError names the file and the key
  r.config_text = nn::io::read_file(r.config_path);
  const TrainConfig& c = r.config;
  const std::string& f = r.config_path;
  r.head = c.head;
  if (r.head != "torusN")
    throw ExportError(f + ": model.arch = \"audio_cnn\", model.head = \"" + r.head +
                      "\": torus-export supports the audio CNN with model.head = \"torusN\" only");
  r.width = int(c.width), r.dim = int(c.dim), r.seed = c.seed;
  r.input.log_mel = audio_options(c).mel;
  r.input.crop_frames = int(c.crop_frames);
  bool found = false;
  const InputRecord record = read_input_record(run_dir, found);
  const std::string input_path = run_dir + "/input.json";
  if (!found || !record.log_mel)
    throw ExportError(input_path + ": " + (found ? "\"kind\" is not \"log-mel\"" : "missing") +
                      " (an audio run records its per-band normalisation there)");
  // The record and config.toml describe one front end; a disagreement means one of them was edited.
  const datasets::LogMelConfig& lm = r.input.log_mel;
  const std::pair<const char*, std::pair<int, int>> settings[] = {{"sample_rate", {record.mel.sample_rate, lm.sample_rate}},
                                                                  {"n_fft", {record.mel.n_fft, lm.n_fft}},
                                                                  {"hop", {record.mel.hop, lm.hop}},
                                                                  {"n_mels", {record.mel.n_mels, lm.n_mels}}};
  for (const auto& [key, values] : settings)
    if (values.first != values.second)
      throw ExportError(input_path + ": \"log_mel." + key + "\" is " + std::to_string(values.first) + ", but " + f + " has audio." +
                        key + " = " + std::to_string(values.second));
  r.input.log_mel.floor = record.mel.floor;
  r.input.mean = record.mean;
  r.input.std = record.std;
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
  AudioCnnWeights weights = audio_cnn_weights(*net, run.input.log_mel.n_mels, run.input.crop_frames, run.width, run.dim);
  const std::string prefix_note = keep_first_circles(weights.shape.dim, weights.fc2_w, weights.fc2_b, o.circles,
                                                          weights.shape.hidden);
  if (!prefix_note.empty()) say(log, prefix_note);

  const int n_cal = std::min(o.calibration, 128);
  std::string crops_text;
  const std::vector<std::int16_t> cal = calibration_crops(run.config, run.input, n_cal, 20240606, crops_text, log);
  const AudioRanges ranges = calibrate_audio(run.input, weights, cal, o.threads);
  const std::string calibration_text = "min/max of each activation over " + crops_text + "; input range " +
                                       std::to_string(ranges.input_lo) + " to " + std::to_string(ranges.input_hi);
  const AudioModel model = quantize_audio_model(run.input, weights, ranges);
  say(log, "calibrated: " + calibration_text);

  // Golden vectors: a few crops (each is input.samples() int16 in the C text), their integer and float codes.
  const int samples = run.input.samples();
  AudioGoldenVectors golden;
  golden.count = std::max(1, std::min(o.golden, 3));
  std::string golden_text;
  golden.pcm = calibration_crops(run.config, run.input, golden.count, 7, golden_text, nullptr);
  golden.codes = audio_int_codes(model, golden.pcm, o.threads);
  golden.float_codes = audio_float_codes(run.input, weights, golden.pcm, o.threads);
  Provenance prov{run.config_text, ck_path, run.seed, ck.epoch, ck.step, calibration_text, {}, prefix_note};
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
  const int K = weights.shape.dim / 2;  // the codes the C emits (fewer than the run's with --circles)
  std::string test_text;
  const std::vector<std::int16_t> test = calibration_crops(run.config, run.input, 32, 99, test_text, nullptr);
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
    report["check_crops"] = test_text;
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
