#include "train/export/check.hpp"

#include "geometry/code_search.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/eval/precision.hpp"
#include "train/export/audio_codegen.hpp"
#include "train/export/codegen.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>
#include <regex>
#include <stdexcept>

namespace torus::train::exportq {

namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string read_text_or_empty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string find_c_compiler() {
  const char* env = std::getenv("CC");
  const std::string cc = env && *env ? env : "cc";
  return run_shell(shell_quote(cc) + " --version > /dev/null 2>&1") == 0 ? cc : "";
}

namespace {

// Compiles the export `prefix` with `driver_text`, probes it for floating point, runs it on
// `input` (records of `record_bytes`) with `extra_args`, and reads the codes back.
CRunResult compile_and_run(const std::string& compiler, const std::string& model_dir, const std::string& work_dir,
                           const std::string& driver_text, std::string_view input, std::size_t record_bytes, int K,
                           const std::string& prefix, const std::string& extra_args) {
  CRunResult r;
  const std::string driver = work_dir + "/driver.c", exe = work_dir + "/driver", log = work_dir + "/compile.log";
  nn::io::write_file_atomic(driver, driver_text);
  const std::string base = model_dir + "/" + prefix;
  const std::string model_h = base + "_model.h", model_c = base + "_model.c", weights_c = base + "_weights.c",
                    golden_c = base + "_golden.c";
  const std::string flags = " -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I" + shell_quote(model_dir) + " ";
  r.compiled = run_shell(shell_quote(compiler) + flags + shell_quote(model_c) + " " + shell_quote(weights_c) + " " +
                         shell_quote(golden_c) + " " + shell_quote(driver) + " -o " + shell_quote(exe) + " > " +
                         shell_quote(log) + " 2>&1") == 0;
  if (!r.compiled) {
    r.compile_log = read_text_or_empty(log);
    return r;
  }
  // No floating point: the model must build with the FP/SIMD registers off (x86 and ARM GCC/Clang
  // take -mgeneral-regs-only); and the text must not name a floating type at all.
  const std::string probe = shell_quote(compiler) + " -mgeneral-regs-only -x c -c /dev/null -o /dev/null > /dev/null 2>&1";
  r.general_regs_tried = run_shell(probe) == 0;
  const auto compiles_without_fp = [&](const std::string& source, const std::string& object) {
    return run_shell(shell_quote(compiler) + flags + "-mgeneral-regs-only -c " + shell_quote(source) + " -o " +
                     shell_quote(work_dir + "/" + object) + " > /dev/null 2>&1") == 0;
  };
  if (r.general_regs_tried)
    r.general_regs_only = compiles_without_fp(model_c, "model_gro.o") && compiles_without_fp(weights_c, "weights_gro.o");
  const std::regex floating(R"(\b(float|double|long double)\b)");
  r.no_float_tokens = true;
  for (const auto& file : {model_h, model_c, weights_c, golden_c})
    r.no_float_tokens = r.no_float_tokens && !std::regex_search(read_text_or_empty(file), floating);

  const std::string images = work_dir + "/images.bin", codes = work_dir + "/codes.bin", out = work_dir + "/run.log";
  nn::io::write_file_atomic(images, input);
  run_shell(shell_quote(exe) + " " + shell_quote(images) + " " + shell_quote(codes) + extra_args + " > " + shell_quote(out) + " 2>&1");
  const std::string text = read_text_or_empty(out);
  if (std::sscanf(text.c_str(), "self_test %d", &r.self_test) != 1) r.self_test = -1;
  const size_t timing = text.find("seconds_per_crop ");
  if (timing != std::string::npos) r.seconds_per_input = std::atof(text.c_str() + timing + 17);
  const std::string bytes = read_text_or_empty(codes);
  r.codes.assign(bytes.begin(), bytes.end());
  if (r.codes.size() != input.size() / record_bytes * size_t(K))
    throw std::runtime_error("torus-export --check: the C driver wrote " + std::to_string(r.codes.size()) +
                             " code bytes, expected " + std::to_string(input.size() / record_bytes * size_t(K)) + "; its output: " + text);
  return r;
}

}  // namespace

CRunResult compile_and_run_c(const std::string& compiler, const std::string& model_dir, const std::string& work_dir,
                             const std::vector<std::uint8_t>& pixels, int K, const std::string& prefix) {
  return compile_and_run(compiler, model_dir, work_dir, generate_test_driver(prefix),
                         std::string_view(reinterpret_cast<const char*>(pixels.data()), pixels.size()), 784, K, prefix, "");
}

CRunResult compile_and_run_audio_c(const std::string& compiler, const std::string& model_dir, const std::string& work_dir,
                                   const std::vector<std::int16_t>& pcm, int samples, int K, const std::string& prefix,
                                   int repeats) {
  return compile_and_run(compiler, model_dir, work_dir, generate_audio_test_driver(prefix),
                         std::string_view(reinterpret_cast<const char*>(pcm.data()), pcm.size() * sizeof(std::int16_t)),
                         std::size_t(samples) * sizeof(std::int16_t), K, prefix,
                         repeats > 0 ? " " + std::to_string(repeats) : std::string());
}

double identical_fraction(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  if (a.size() != b.size() || a.empty()) throw std::invalid_argument("identical_fraction: sizes differ or are 0");
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return double(same) / double(a.size());
}

double within_steps_fraction(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b, int steps) {
  if (a.size() != b.size() || a.empty()) throw std::invalid_argument("within_steps_fraction: sizes differ or are 0");
  size_t close = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int d = std::abs(int(static_cast<std::int8_t>(static_cast<std::uint8_t>(a[i] - b[i]))));
    close += d <= steps;
  }
  return double(close) / double(a.size());
}

double code_precision_at_1(const geometry::CodeMatrix& queries, const std::vector<int>& query_labels,
                           const geometry::CodeMatrix& references, const std::vector<int>& reference_labels, int threads,
                           int amplitude) {
  const geometry::CosineLut lut(amplitude);
  return eval::label_match_rate(geometry::knn_cosine_lut(queries, references, lut, 1, threads).indices, query_labels,
                                reference_labels);
}

}  // namespace torus::train::exportq
