// torus-export: a torusN run of the reference conv net -> int8 C99 for a microcontroller.
//   torus-export --run DIR [--checkpoint best|last|FILE] [--out DIR/export] [--calibration 2000]
//                [--prefix torus] [--check] [--threads 2]
// Writes NAME_model.h, NAME_model.c (NAME_embed_u8_r(scratch, pixels, codes), NAME_embed_u8(pixels,
// codes)), NAME_weights.c, NAME_golden.c (NAME_self_test()) and the float weights, NAME = --prefix;
// with --check also the report, after compiling the C and comparing it with the C++ integer
// reference and the float model on the whole test split.
// Exit status: 0 done (and the check passed), 1 an error or a failed check, 2 a bad configuration.
#include "nn/io/errors.hpp"
#include "train/export/export_run.hpp"
#include "train/train_config.hpp"

#include "train/command_line.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

using namespace torus;

int main(int argc, char** argv) {
  CLI::App app{"Exports a convnet/torusN or audio_cnn/torusN run as int8 C99 code with no floating point, and checks it."};
  train::exportq::ExportOptions o;
  app.add_option("--run", o.run_dir, "run folder written by torus-train")->required();
  app.add_option("--checkpoint", o.checkpoint, "best, last, or a checkpoint file")->capture_default_str();
  app.add_option("--out", o.out_dir, "output folder (default <run>/export)");
  app.add_option("--calibration", o.calibration, "training images for the activation ranges (min/max); audio_cnn: centre crops of training clips, at most 128")
      ->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--prefix", o.prefix, "C identifier leading every generated name and file")->capture_default_str();
  app.add_flag("--check", o.check, "compile the C, run it on the test split (audio_cnn: 32 synthetic crops), compare; writes check.json (NAME_check.json)");
  app.add_option("--circles", o.circles,
                 "emit only the first K codes (a Matryoshka prefix of the run's D/2 circles; 0: all of them)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  if (const int status = torus::train::parse_command_line(app, argc, argv); status >= 0) return status;
  try {
    const auto r = train::exportq::run_export(o, stderr);
    for (const auto& f : r.files) std::printf("%s\n", f.c_str());
    if (!o.check) return 0;
    const auto& c = r.check;
    if (!c.value("c_compiled", false)) {
      std::fprintf(stderr, "torus-export --check: the generated C does not compile:\n%s\n",
                   c.value("compile_log", std::string()).c_str());
      return 1;
    }
    if (c.contains("crops")) {  // the audio CNN's report (audio_export.cpp)
      std::fprintf(stderr,
                   "torus-export --check on %s:\n"
                   "  self-test                          %s\n"
                   "  C == C++ integer reference         %s\n"
                   "  integer vs float codes, identical  %.2f%%\n"
                   "  integer vs float, within one step  %.2f%%, within two %.2f%%\n"
                   "  C time per crop (-O2, this host)   %.4f s\n"
                   "  no floating point                  %s tokens; -mgeneral-regs-only %s\n",
                   c.value("check_crops", std::to_string(c["crops"].get<long long>()) + " crops").c_str(),
                   c["self_test"].get<int>() == 0 ? "pass" : "FAIL",
                   c["c_vs_cpp_identical"].get<bool>() ? "every code" : "DIFFERS",
                   100 * c["int_vs_float_identical_fraction"].get<double>(),
                   100 * c["int_vs_float_within_one_step_fraction"].get<double>(),
                   100 * c["int_vs_float_within_two_steps_fraction"].get<double>(), c["seconds_per_crop_c_O2"].get<double>(),
                   c["no_float_tokens"].get<bool>() ? "no float/double" : "FOUND float/double",
                   !c["general_regs_only_tried"].get<bool>() ? "not supported by this compiler"
                   : c["general_regs_only_compiles"].get<bool>() ? "compiles" : "FAILS");
      if (!r.check_passed) std::fprintf(stderr, "torus-export --check: FAILED\n");
      return r.check_passed ? 0 : 1;
    }
    std::fprintf(stderr,
                 "torus-export --check (%s, %lld test images, %lld circles):\n"
                 "  self-test                          %s\n"
                 "  C == C++ integer reference         %.4f%% of codes (%lld images differ)\n"
                 "  integer vs float codes, identical  %.2f%%\n"
                 "  integer vs float, within one step  %.2f%% (target >= 99%%)\n"
                 "  precision@1 float z                %.4f\n"
                 "  precision@1 float codes            %.4f (cosine LUT, int16)\n"
                 "  precision@1 integer codes          %.4f (cosine LUT, int16; vs float z %+.2f points, target\n"
                 "                                            within 1; vs float codes %+.2f points)\n"
                 "  the same with an int8 LUT (A=127)  float codes %.4f, integer codes %.4f\n"
                 "  no floating point                  %s tokens; -mgeneral-regs-only %s\n",
                 c["compiler"].get<std::string>().c_str(), c["images"].get<long long>(), c["circles"].get<long long>(),
                 c["self_test_passed"].get<bool>() ? "pass" : "FAIL",
                 100 * c["c_vs_cpp_identical_fraction"].get<double>(), c["c_vs_cpp_differing_images"].get<long long>(),
                 100 * c["int_vs_float_identical_fraction"].get<double>(),
                 100 * c["int_vs_float_within_one_step_fraction"].get<double>(), c["precision_at_1_float"].get<double>(),
                 c["precision_at_1_float_codes"].get<double>(), c["precision_at_1_int_codes"].get<double>(),
                 100 * (c["precision_at_1_int_codes"].get<double>() - c["precision_at_1_float"].get<double>()),
                 100 * (c["precision_at_1_int_codes"].get<double>() - c["precision_at_1_float_codes"].get<double>()),
                 c["precision_at_1_float_codes_int8_lut"].get<double>(), c["precision_at_1_int_codes_int8_lut"].get<double>(),
                 c["no_float_tokens"].get<bool>() ? "no float/double" : "FOUND float/double",
                 !c["general_regs_only_tried"].get<bool>() ? "not supported by this compiler"
                 : c["general_regs_only_compiles"].get<bool>() ? "compiles" : "FAILS");
    if (!r.check_passed) std::fprintf(stderr, "torus-export --check: FAILED\n");
    return r.check_passed ? 0 : 1;
  } catch (const train::ConfigError& e) {
    std::fprintf(stderr, "torus-export: configuration: %s\n", e.what());
    return 2;
  } catch (const train::exportq::ExportError& e) {
    std::fprintf(stderr, "torus-export: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-export: %s\n", e.what());
    return 1;
  }
}
