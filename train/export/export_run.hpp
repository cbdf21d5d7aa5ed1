// torus-export from a run folder, end to end: read config.toml and the checkpoint, refuse anything
// but model.arch = convnet with model.head = torusN (the microcontroller pathway), calibrate the
// activation ranges on training images, quantise (int8_net.hpp), compute golden vectors with
// the C++ integer reference, generate the C (codegen.hpp), and write NAME_model.h, NAME_model.c,
// NAME_weights.c, NAME_golden.c and the float weights, all generated in memory first and each
// written atomically; if any write fails the files this export created are removed again.
// --check (check.hpp) then compiles and runs the C against the references.
#pragma once

#include "train/export/codegen.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace torus::train::exportq {

// A run folder, checkpoint or configuration torus-export cannot use; the message names the file
// and the field.
class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ExportOptions {
  std::string run_dir;
  std::string checkpoint = "best";  // best, last, or a file
  std::string out_dir;              // "" = <run>/export
  std::string prefix = kDefaultPrefix;  // NAME of every generated C name and file (codegen.hpp)
  int calibration = 2000;           // training images whose activation maxima set the ranges
  int golden = 8;                   // test images embedded as golden vectors
  bool check = false;
  int threads = 2;
  int circles = 0;                  // a Matryoshka prefix: emit the first this many codes (0: all D/2)
};

struct ExportResult {
  std::vector<std::string> files;  // written, in order
  nlohmann::json check;            // the --check report (null without --check)
  bool check_passed = true;        // C compiled, self-test passed, C == C++ on every image
  ResourceBudget resources;        // as stated in NAME_model.h
};

// The export's files besides the C: the float weights and the --check report. The default prefix
// keeps their historical names (weights.safetensors, check.json), another prefix leads them
// (NAME_weights.safetensors), so two exports can share a folder.
std::string float_weights_name(const std::string& prefix);
std::string check_report_name(const std::string& prefix);

// Writes the four files of `code` and then, through write_weights(path), `weights_name`, each
// atomically into out_dir; if any write fails the files this call created are removed again.
// Returns the paths written, in order.
std::vector<std::string> write_export_files(const std::string& out_dir, const GeneratedC& code, const std::string& weights_name,
                                            const std::function<void(const std::string&)>& write_weights);

// model.arch = "audio_cnn" goes to run_audio_export (audio_export.hpp).
// Throws ExportError for a prefix that is not a C identifier (is_c_prefix) (or the loaders' errors: ConfigError, nn::io::FormatError / MismatchError,
// datasets::DataError) before anything is written; `log` gets progress lines (may be null).
ExportResult run_export(const ExportOptions& options, std::FILE* log);

}  // namespace torus::train::exportq
