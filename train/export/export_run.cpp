#include "train/export/export_run.hpp"

#include "autodiff/parallel.hpp"
#include "geometry/uint8_codes.hpp"
#include "nn/io/atomic_file.hpp"
#include "nn/io/checkpoint.hpp"
#include "nn/io/safetensors.hpp"
#include "train/elapsed.hpp"
#include "train/embedding.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/export/check.hpp"
#include "train/export/codegen.hpp"
#include "train/export/int8_net.hpp"
#include "train/training_state.hpp"

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
                      "\": torus-export supports only model.arch = \"convnet\" with model.head = \"torusN\" "
                      "(the reference conv net of the microcontroller pathway)");
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

}  // namespace

ExportResult run_export(const ExportOptions& o, std::FILE* log) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!fs::is_directory(o.run_dir)) throw ExportError("run folder " + o.run_dir + ": no such folder");
  const std::string config_path = o.run_dir + "/config.toml";
  if (!fs::is_regular_file(config_path)) throw ExportError(config_path + ": no such file (not a torus-train run folder?)");
  if (o.calibration < 1) throw ExportError("--calibration must be at least 1");
  TrainConfig config;
  apply_toml_file(config, config_path);
  validate(config);
  require_supported(config_path, config.arch, config.head);
  const std::string ck_path =
      o.checkpoint == "best" || o.checkpoint == "last" ? o.run_dir + "/" + o.checkpoint + ".ckpt" : o.checkpoint;
  if (!fs::is_regular_file(ck_path)) throw ExportError("checkpoint " + ck_path + ": no such file");
  const nn::io::Checkpoint ck = nn::io::read_checkpoint(ck_path);  // FormatError names a corrupt file
  {
    const auto& a = ck.architecture;
    const auto field = [&](const char* k) { return a.is_object() && a.contains(k) && a[k].is_string() ? a[k].get<std::string>() : std::string("?"); };
    require_supported("checkpoint " + ck_path, field("arch"), field("head"));
  }
  const std::vector<int64_t> input = {1, 28, 28};
  const nlohmann::json expected = architecture(config, input);
  if (ck.architecture != expected)
    throw ExportError("checkpoint " + ck_path + ": its architecture " + ck.architecture.dump() + " differs from " +
                      config_path + "'s " + expected.dump());
  std::mt19937_64 rng(std::uint64_t(config.seed));
  Model model = make_model(config, input, rng);
  auto* net = dynamic_cast<nn::FmnistConvNet<float>*>(model.net.get());
  if (!net) throw ExportError(config_path + ": model.arch = convnet did not build the reference conv net");
  nn::io::restore_parameters(ck, nn::io::kModelPrefix, net->parameters());
  model.net->set_training(false);
  say(log, "checkpoint " + ck_path + " (epoch " + std::to_string(ck.epoch) + "), D = " + std::to_string(config.dim));

  set_num_threads(o.threads);
  const Split train = load_split(config, "train");
  const Split test = load_split(config, "test");
  if (!train.is_images || train.images.image_size() != kPixels || !test.is_images || test.images.image_size() != kPixels)
    throw ExportError(config_path + ": data.dataset = " + config.dataset + " does not give 1x28x28 images");
  const datasets::AugmentConfig normalization = dataset_normalization(config);
  const InputNormalization norm{normalization.mean.at(0), normalization.std.at(0)};

  // Calibration: activation maxima over `calibration` training images drawn by a fixed seed.
  const ConvNetWeights weights = convnet_weights(*net);
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
  const Int8ConvNet qnet = quantize_convnet(weights, norm, ranges);
  const std::string calibration_text = "min/max (min 0 after ReLU) of each activation over " + std::to_string(n_cal) +
                                       " training images; maxima " + std::to_string(ranges.act1) + ", " +
                                       std::to_string(ranges.act2) + ", " + std::to_string(ranges.act3);
  say(log, "calibrated: " + calibration_text);

  // Golden vectors: the first test images and their codes by the C++ integer reference.
  const int K = qnet.dim / 2;
  GoldenVectors golden;
  golden.count = int(std::min<int64_t>(o.golden, test.size()));
  golden.pixels.assign(test.images.pixels.begin(), test.images.pixels.begin() + int64_t(golden.count) * kPixels);
  golden.codes = int8_codes(qnet, test.images, golden.count);
  Provenance prov{nn::io::read_file(config_path), ck_path, config.seed, ck.epoch, ck.step, calibration_text};
  const GeneratedC code = generate_c(qnet, prov, golden);

  // Write: everything is in memory; each file is atomic, and a failure removes what this export created.
  const std::string out_dir = o.out_dir.empty() ? o.run_dir + "/export" : o.out_dir;
  ExportResult result;
  std::vector<std::string> created;
  try {
    fs::create_directories(out_dir);
    const auto write = [&](const std::string& name, const auto& writer) {
      const std::string path = out_dir + "/" + name;
      const bool existed = fs::exists(path);
      writer(path);
      if (!existed) created.push_back(path);
      result.files.push_back(path);
    };
    write("torus_model.h", [&](const std::string& p) { nn::io::write_file_atomic(p, code.header); });
    write("torus_model.c", [&](const std::string& p) { nn::io::write_file_atomic(p, code.source); });
    write("weights.safetensors", [&](const std::string& p) {
      nn::io::save_parameters(p, net->parameters(),
                              {{"arch", config.arch}, {"head", config.head}, {"dim", std::to_string(config.dim)},
                               {"checkpoint", ck_path}, {"epoch", std::to_string(ck.epoch)}, {"seed", std::to_string(config.seed)}});
    });
  } catch (...) {
    for (const auto& p : created) fs::remove(p);
    throw;
  }
  say(log, "wrote " + out_dir + "/torus_model.h, torus_model.c (" + std::to_string(code.source.size()) +
               " bytes), weights.safetensors");
  if (!o.check) return result;

  // --check
  const std::string cc = find_c_compiler();
  if (cc.empty()) throw ExportError("--check: no C compiler found (set CC or install gcc)");
  std::string tmpl = (fs::temp_directory_path() / "torus-export-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw ExportError("--check: cannot create a temporary folder in " + fs::temp_directory_path().string());
  const std::string work = tmpl;
  nlohmann::json report;
  try {
    const auto t_int = std::chrono::steady_clock::now();
    const std::vector<std::uint8_t> cpp_test = int8_codes(qnet, test.images, test.size());
    const double int_test_s = seconds_since(t_int);
    const auto t_c = std::chrono::steady_clock::now();
    const CRunResult c = compile_and_run_c(cc, out_dir, work, test.images.pixels, K);
    const double c_s = seconds_since(t_c);
    report["c_compiled"] = c.compiled;
    if (!c.compiled) {
      report["compile_log"] = c.compile_log;
      result.check_passed = false;
    } else {
      size_t differing_images = 0;
      for (int64_t i = 0; i < test.size(); ++i)
        differing_images += !std::equal(c.codes.begin() + i * K, c.codes.begin() + (i + 1) * K, cpp_test.begin() + i * K);
      const auto t_train = std::chrono::steady_clock::now();
      const std::vector<std::uint8_t> cpp_train = int8_codes(qnet, train.images, train.size());
      const double int_train_s = seconds_since(t_train);
      // The float model's codes: torus_angles of its z, quantised as the integer codes are.
      const eval::RowMatrix z_test = embed_split(model, test, normalization);
      const eval::RowMatrix z_train = embed_split(model, train, normalization);
      const geometry::CodeMatrix float_test = geometry::encode_angles<float>(eval::torus_angles(z_test, model.mode));
      const geometry::CodeMatrix float_train = geometry::encode_angles<float>(eval::torus_angles(z_train, model.mode));
      const std::vector<std::uint8_t> float_test_v(float_test.data(), float_test.data() + float_test.size());
      const double p1_float = eval::precision_at_1(z_test, test.labels(), z_train, train.labels(), o.threads);
      // Code similarity by the cosine table; the int16 table (A = 32767) is the headline: with the int8
      // one (A = 127) its rounding makes many near neighbours tie, which costs about a point.
      const geometry::CodeMatrix int_test_m = as_matrix(cpp_test, K), int_train_m = as_matrix(cpp_train, K);
      const double p1_float_codes = code_precision_at_1(float_test, test.labels(), float_train, train.labels(), o.threads, 32767);
      const double p1_int = code_precision_at_1(int_test_m, test.labels(), int_train_m, train.labels(), o.threads, 32767);
      const double p1_float_codes_8 = code_precision_at_1(float_test, test.labels(), float_train, train.labels(), o.threads, 127);
      const double p1_int_8 = code_precision_at_1(int_test_m, test.labels(), int_train_m, train.labels(), o.threads, 127);
      report["self_test"] = c.self_test;
      report["self_test_passed"] = c.self_test == 0;
      report["images"] = test.size();
      report["circles"] = test.size() * K;
      report["c_vs_cpp_identical_fraction"] = identical_fraction(c.codes, cpp_test);
      report["c_vs_cpp_differing_images"] = differing_images;
      report["int_vs_float_identical_fraction"] = identical_fraction(cpp_test, float_test_v);
      report["int_vs_float_within_one_step_fraction"] = within_steps_fraction(cpp_test, float_test_v, 1);
      report["precision_at_1_float"] = p1_float;
      report["precision_at_1_float_codes"] = p1_float_codes;
      report["precision_at_1_int_codes"] = p1_int;
      report["precision_at_1_lut_amplitude"] = 32767;
      report["precision_at_1_float_codes_int8_lut"] = p1_float_codes_8;
      report["precision_at_1_int_codes_int8_lut"] = p1_int_8;
      report["references"] = train.size();
      report["no_float_tokens"] = c.no_float_tokens;
      report["general_regs_only_tried"] = c.general_regs_tried;
      report["general_regs_only_compiles"] = c.general_regs_only;
      report["seconds"] = {{"cpp_int_test", int_test_s}, {"c_compile_and_run_test", c_s}, {"cpp_int_train", int_train_s}};
      result.check_passed = c.self_test == 0 && differing_images == 0;
    }
    report["compiler"] = cc;
    report["passed"] = result.check_passed;
    report["calibration"] = calibration_text;
    report["checkpoint"] = ck_path;
    report["epoch"] = ck.epoch;
    report["torus_model_c_bytes"] = code.source.size();
    report["torus_model_h_bytes"] = code.header.size();
    report["weight_bytes"] = qnet.conv1_w.size() + qnet.conv2_w.size() + qnet.fc1_w.size() + qnet.fc2_w.size();
    report["seconds_total"] = seconds_since(t0);
  } catch (...) {
    fs::remove_all(work);
    throw;
  }
  fs::remove_all(work);
  nn::io::write_file_atomic(out_dir + "/check.json", report.dump(2) + "\n");
  result.files.push_back(out_dir + "/check.json");
  result.check = report;
  return result;
}

}  // namespace torus::train::exportq
