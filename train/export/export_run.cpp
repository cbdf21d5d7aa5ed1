#include "train/export/export_run.hpp"

#include "train/export/circle_prefix.hpp"

#include "autodiff/parallel.hpp"
#include "geometry/uint8_codes.hpp"
#include "nn/io/atomic_file.hpp"
#include "nn/io/checkpoint.hpp"
#include "nn/io/safetensors.hpp"
#include "train/elapsed.hpp"
#include "train/embedding.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/export/audio_export.hpp"
#include "train/export/check.hpp"
#include "train/export/codegen.hpp"
#include "train/export/int8_net.hpp"
#include "train/run_folder.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>

namespace torus::train::exportq {

namespace fs = std::filesystem;

namespace {

void say(std::FILE* log, const std::string& text) {
  if (log) std::fprintf(log, "torus-export: %s\n", text.c_str());
}

void require_supported(const std::string& where, const std::string& arch, const std::string& head) {
  if (arch != "convnet" || head != "torusN")
    throw ExportError(where + ": model.arch = \"" + arch + "\", model.head = \"" + head +
                      "\": torus-export supports model.arch = \"convnet\" (the reference conv net of the microcontroller "
                      "pathway) or \"audio_cnn\", each with model.head = \"torusN\"");
}

// Integer codes (n, K) of images [0, n) of `split` by the C++ reference, in parallel.
std::vector<std::uint8_t> int8_codes(const Int8ConvNet& net, const datasets::ImageSet& images, int64_t n) {
  const int K = net.dim / 2;
  std::vector<std::uint8_t> codes(size_t(n) * K);
  parallel_for(n, 5'000'000, [&](int64_t begin, int64_t end) {
    std::vector<std::int32_t> h(size_t(net.dim));
    for (int64_t i = begin; i < end; ++i)
      int8_forward(net, &images.pixels[size_t(i) * kPixels], h.data(), &codes[size_t(i) * K]);
  });
  return codes;
}

geometry::CodeMatrix as_matrix(const std::vector<std::uint8_t>& codes, int K) {
  geometry::CodeMatrix m(int64_t(codes.size()) / K, K);
  std::copy(codes.begin(), codes.end(), m.data());
  return m;
}

// The run folder's configuration and checkpoint, refused unless they are the reference conv net
// with a torusN head; the float network with the checkpoint's weights, in evaluation mode.
struct ExportSource {
  std::string config_path, ck_path;
  TrainConfig config;
  nn::io::Checkpoint ck;
  Model model;
  nn::FmnistConvNet<float>* net = nullptr;  // model.net, as the conv net it must be
};

ExportSource read_source(const ExportOptions& o) {
  ExportSource src;
  if (!fs::is_directory(o.run_dir)) throw ExportError("run folder " + o.run_dir + ": no such folder");
  src.config_path = o.run_dir + "/config.toml";
  if (!fs::is_regular_file(src.config_path))
    throw ExportError(src.config_path + ": no such file (not a torus-train run folder?)");
  if (o.calibration < 1) throw ExportError("--calibration must be at least 1");
  src.config = read_run_config(o.run_dir);
  require_supported(src.config_path, src.config.arch, src.config.head);
  src.ck_path = checkpoint_path(o.run_dir, o.checkpoint);
  if (!fs::is_regular_file(src.ck_path)) throw ExportError("checkpoint " + src.ck_path + ": no such file");
  src.ck = nn::io::read_checkpoint(src.ck_path);  // FormatError names a corrupt file
  const auto& a = src.ck.architecture;
  const auto field = [&](const char* k) { return a.is_object() && a.contains(k) && a[k].is_string() ? a[k].get<std::string>() : std::string("?"); };
  require_supported("checkpoint " + src.ck_path, field("arch"), field("head"));
  const std::vector<int64_t> input = {1, 28, 28};
  const nlohmann::json expected = architecture(src.config, input);
  if (a != expected)
    throw ExportError("checkpoint " + src.ck_path + ": its architecture " + a.dump() + " differs from " +
                      src.config_path + "'s " + expected.dump());
  std::mt19937_64 rng(std::uint64_t(src.config.seed));
  src.model = make_model(src.config, input, rng);
  src.net = dynamic_cast<nn::FmnistConvNet<float>*>(src.model.net.get());
  if (!src.net) throw ExportError(src.config_path + ": model.arch = convnet did not build the reference conv net");
  nn::io::restore_parameters(src.ck, nn::io::kModelPrefix, src.net->parameters());
  src.model.net->set_training(false);
  return src;
}

// Activation maxima over `calibration` training images drawn by a fixed seed, then the int8
// network; `text` describes the calibration for the provenance and the report.
Int8ConvNet calibrate(const ConvNetWeights& weights, const InputNormalization& norm, const Split& train,
                      const ExportOptions& o, std::string& text) {
  std::vector<int64_t> order(size_t(train.size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 pick(20240606);
  std::shuffle(order.begin(), order.end(), pick);
  const int64_t n_cal = std::min<int64_t>(o.calibration, train.size());
  std::vector<ActivationRanges> chunk_ranges(size_t(o.threads));
  parallel_chunks(n_cal, o.threads, [&](int c, int64_t begin, int64_t end) {
    std::vector<float> h(size_t(weights.dim));
    for (int64_t i = begin; i < end; ++i)
      float_forward(weights, norm, &train.images.pixels[size_t(order[size_t(i)]) * kPixels], h.data(), &chunk_ranges[size_t(c)]);
  });
  ActivationRanges ranges;
  for (const auto& r : chunk_ranges) ranges.merge(r);
  text = "min/max (min 0 after ReLU) of each activation over " + std::to_string(n_cal) + " training images; maxima " +
         std::to_string(ranges.act1) + ", " + std::to_string(ranges.act2) + ", " + std::to_string(ranges.act3);
  return quantize_convnet(weights, norm, ranges);
}

// The run folder's float weights beside the C.
std::vector<std::string> write_files(const std::string& out_dir, const GeneratedC& code, const ExportSource& src) {
  const TrainConfig& c = src.config;
  return write_export_files(out_dir, code, float_weights_name(code.prefix), [&](const std::string& p) {
    nn::io::save_parameters(p, src.net->parameters(),
                            {{"arch", c.arch}, {"head", c.head}, {"dim", std::to_string(c.dim)}, {"checkpoint", src.ck_path},
                             {"epoch", std::to_string(src.ck.epoch)}, {"seed", std::to_string(c.seed)}});
  });
}

// What --check compares: the C against the C++ integer reference (every test image), and the
// integer codes against the float model's (agreement and precision@1).
struct CheckInputs {
  const Int8ConvNet& qnet;
  ExportSource& src;
  const Split &train, &test;
  const datasets::AugmentConfig& normalization;
  int threads;
  const std::string& prefix;
};

// The float model's and the integer network's precision@1 and code agreement, into `report`.
void compare_with_float(const CheckInputs& in, const std::vector<std::uint8_t>& cpp_test, nlohmann::json& report) {
  const int K = in.qnet.dim / 2;
  const auto t_train = std::chrono::steady_clock::now();
  const std::vector<std::uint8_t> cpp_train = int8_codes(in.qnet, in.train.images, in.train.size());
  const double int_train_s = seconds_since(t_train);
  // The float model's codes: torus_angles of its z, quantised as the integer codes are.
  const eval::RowMatrix z_test = embed_split(in.src.model, in.test, in.normalization);
  const eval::RowMatrix z_train = embed_split(in.src.model, in.train, in.normalization);
  // A prefix export (--circles) is compared with the float model's first K circles.
  const geometry::CodeMatrix float_test = geometry::encode_angles<float>(eval::torus_angles(z_test, in.src.model.mode)).leftCols(K);
  const geometry::CodeMatrix float_train = geometry::encode_angles<float>(eval::torus_angles(z_train, in.src.model.mode)).leftCols(K);
  const std::vector<std::uint8_t> float_test_v(float_test.data(), float_test.data() + float_test.size());
  const std::vector<int>&ql = in.test.labels(), &rl = in.train.labels();
  // Code similarity by the cosine table; the int16 table (A = 32767) is the headline: with the int8
  // one (A = 127) its rounding makes many near neighbours tie, which costs about a point.
  const geometry::CodeMatrix int_test_m = as_matrix(cpp_test, K), int_train_m = as_matrix(cpp_train, K);
  report["int_vs_float_identical_fraction"] = identical_fraction(cpp_test, float_test_v);
  report["int_vs_float_within_one_step_fraction"] = within_steps_fraction(cpp_test, float_test_v, 1);
  report["precision_at_1_float"] = eval::precision_at_1(z_test.leftCols(2 * K), ql, z_train.leftCols(2 * K), rl, in.threads);
  report["precision_at_1_float_codes"] = code_precision_at_1(float_test, ql, float_train, rl, in.threads, 32767);
  report["precision_at_1_int_codes"] = code_precision_at_1(int_test_m, ql, int_train_m, rl, in.threads, 32767);
  report["precision_at_1_lut_amplitude"] = 32767;
  report["precision_at_1_float_codes_int8_lut"] = code_precision_at_1(float_test, ql, float_train, rl, in.threads, 127);
  report["precision_at_1_int_codes_int8_lut"] = code_precision_at_1(int_test_m, ql, int_train_m, rl, in.threads, 127);
  report["references"] = in.train.size();
  report["seconds"]["cpp_int_train"] = int_train_s;
}

// Compiles and runs the C in `work`; true when it compiled, passed its self-test and equals the
// C++ reference on every test image.
bool check_c(const CheckInputs& in, const std::string& cc, const std::string& out_dir, const std::string& work,
             nlohmann::json& report) {
  const int K = in.qnet.dim / 2;
  const auto t_int = std::chrono::steady_clock::now();
  const std::vector<std::uint8_t> cpp_test = int8_codes(in.qnet, in.test.images, in.test.size());
  const double int_test_s = seconds_since(t_int);
  const auto t_c = std::chrono::steady_clock::now();
  const CRunResult c = compile_and_run_c(cc, out_dir, work, in.test.images.pixels, K, in.prefix);
  const double c_s = seconds_since(t_c);
  report["c_compiled"] = c.compiled;
  if (!c.compiled) {
    report["compile_log"] = c.compile_log;
    return false;
  }
  size_t differing_images = 0;
  for (int64_t i = 0; i < in.test.size(); ++i)
    differing_images += !std::equal(c.codes.begin() + i * K, c.codes.begin() + (i + 1) * K, cpp_test.begin() + i * K);
  report["self_test"] = c.self_test;
  report["self_test_passed"] = c.self_test == 0;
  report["images"] = in.test.size();
  report["circles"] = in.test.size() * K;
  report["c_vs_cpp_identical_fraction"] = identical_fraction(c.codes, cpp_test);
  report["c_vs_cpp_differing_images"] = differing_images;
  report["no_float_tokens"] = c.no_float_tokens;
  report["general_regs_only_tried"] = c.general_regs_tried;
  report["general_regs_only_compiles"] = c.general_regs_only;
  report["seconds"] = {{"cpp_int_test", int_test_s}, {"c_compile_and_run_test", c_s}};
  compare_with_float(in, cpp_test, report);
  return c.self_test == 0 && differing_images == 0;
}
// --check: compile and run the C in a temporary folder, compare, and write check.json.
nlohmann::json check_export(const CheckInputs& in, const std::string& out_dir, const GeneratedC& code,
                            const std::string& calibration_text, std::chrono::steady_clock::time_point t0) {
  const std::string cc = find_c_compiler();
  if (cc.empty()) throw ExportError("--check: no C compiler found (set CC or install gcc)");
  std::string tmpl = (fs::temp_directory_path() / "torus-export-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw ExportError("--check: cannot create a temporary folder in " + fs::temp_directory_path().string());
  const std::string work = tmpl;
  nlohmann::json report;
  try {
    const bool passed = check_c(in, cc, out_dir, work, report);
    report["compiler"] = cc;
    report["passed"] = passed;
    report["calibration"] = calibration_text;
    report["checkpoint"] = in.src.ck_path;
    report["epoch"] = in.src.ck.epoch;
    report["prefix"] = code.prefix;
    for (const auto& [name, text] : code.files()) report["file_bytes"][name] = text.size();
    report["weight_bytes"] = in.qnet.conv1_w.size() + in.qnet.conv2_w.size() + in.qnet.fc1_w.size() + in.qnet.fc2_w.size();
    report["flash_bytes"] = code.resources.flash_bytes;
    report["scratch_bytes"] = code.resources.scratch_bytes;
    report["stack_bytes_bound"] = code.resources.stack_bytes;
    report["seconds_total"] = seconds_since(t0);
  } catch (...) {
    fs::remove_all(work);
    throw;
  }
  fs::remove_all(work);
  nn::io::write_file_atomic(out_dir + "/" + check_report_name(code.prefix), report.dump(2) + "\n");
  return report;
}
}  // namespace

std::vector<std::string> write_export_files(const std::string& out_dir, const GeneratedC& code, const std::string& weights_name,
                                            const std::function<void(const std::string&)>& write_weights) {
  // Everything is in memory; each file is written atomically, and a failure removes what this
  // export created.
  std::vector<std::string> files, created;
  try {
    fs::create_directories(out_dir);
    const auto write = [&](const std::string& name, const auto& writer) {
      const std::string path = out_dir + "/" + name;
      const bool existed = fs::exists(path);
      writer(path);
      if (!existed) created.push_back(path);
      files.push_back(path);
    };
    for (const auto& [name, text] : code.files())
      write(name, [&](const std::string& p) { nn::io::write_file_atomic(p, text); });
    write(weights_name, write_weights);
  } catch (...) {
    for (const auto& p : created) fs::remove(p);
    throw;
  }
  return files;
}

std::string float_weights_name(const std::string& prefix) {
  return prefix == kDefaultPrefix ? "weights.safetensors" : prefix + "_weights.safetensors";
}

std::string check_report_name(const std::string& prefix) {
  return prefix == kDefaultPrefix ? "check.json" : prefix + "_check.json";
}

ExportResult run_export(const ExportOptions& o, std::FILE* log) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!is_c_prefix(o.prefix))
    throw ExportError("--prefix \"" + o.prefix + "\": expected a C identifier that starts with a letter "
                      "(letters, digits and '_'), the start of every generated name");
  if (is_audio_run(o.run_dir)) return run_audio_export(o, log);
  ExportSource src = read_source(o);
  say(log, "checkpoint " + src.ck_path + " (epoch " + std::to_string(src.ck.epoch) + "), D = " + std::to_string(src.config.dim));

  set_num_threads(o.threads);
  const Split train = load_split(src.config, "train");
  const Split test = load_split(src.config, "test");
  if (!train.is_images || train.images.image_size() != kPixels || !test.is_images || test.images.image_size() != kPixels)
    throw ExportError(src.config_path + ": data.dataset = " + src.config.dataset + " does not give 1x28x28 images");
  const datasets::AugmentConfig normalization = dataset_normalization(src.config);
  const InputNormalization norm{normalization.mean.at(0), normalization.std.at(0)};
  ConvNetWeights weights = convnet_weights(*src.net);
  const std::string prefix_note = keep_first_circles(weights.dim, weights.fc2_w, weights.fc2_b, o.circles, kHidden);
  if (!prefix_note.empty()) say(log, prefix_note);
  std::string calibration_text;
  const Int8ConvNet qnet = calibrate(weights, norm, train, o, calibration_text);
  say(log, "calibrated: " + calibration_text);

  // Golden vectors: the first test images and their codes by the C++ integer reference.
  GoldenVectors golden;
  golden.count = int(std::min<int64_t>(o.golden, test.size()));
  golden.pixels.assign(test.images.pixels.begin(), test.images.pixels.begin() + int64_t(golden.count) * kPixels);
  golden.codes = int8_codes(qnet, test.images, golden.count);
  const Provenance prov{nn::io::read_file(src.config_path), src.ck_path, src.config.seed, src.ck.epoch, src.ck.step,
                        calibration_text, norm, prefix_note};
  const GeneratedC code = generate_c(qnet, prov, golden, o.prefix);

  const std::string out_dir = o.out_dir.empty() ? o.run_dir + "/export" : o.out_dir;
  ExportResult result;
  result.resources = code.resources;
  result.files = write_files(out_dir, code, src);
  say(log, "wrote " + out_dir + "/" + o.prefix + "_model.h, _model.c, _weights.c, _golden.c, " +
               float_weights_name(o.prefix) + "; flash " + std::to_string(code.resources.flash_bytes) + " bytes, RAM " +
               std::to_string(code.resources.scratch_bytes) + " bytes, stack at most " +
               std::to_string(code.resources.stack_bytes) + " bytes");
  if (!o.check) return result;

  result.check = check_export(CheckInputs{qnet, src, train, test, normalization, o.threads, o.prefix}, out_dir, code,
                              calibration_text, t0);
  result.check_passed = result.check["passed"].get<bool>();
  result.files.push_back(out_dir + "/" + check_report_name(o.prefix));
  return result;
}

}  // namespace torus::train::exportq
