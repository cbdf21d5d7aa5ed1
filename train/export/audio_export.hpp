// torus-export for an audio run folder (model.arch = "audio_cnn", model.head = "torusN"): reads
// config.toml (the run's [model] and [audio] settings) and input.json's per-band mean and std,
// loads the checkpoint's weights and batch-norm buffers, calibrates on centre crops of training
// clips (synthetic calls at the run's rate when the recordings cannot be read; the header and the
// report say which), quantises (audio_model.hpp), writes the C (audio_codegen.hpp) and with
// --check compiles and runs it against the C++ integer reference bit for bit and against the
// float model on other training crops.
#pragma once

#include "train/export/audio_model.hpp"
#include "train/export/export_run.hpp"
#include "train/train_config.hpp"

#include <cstdio>
#include <string>

namespace torus::train::exportq {

struct AudioRun {
  TrainConfig config;
  std::string config_path, config_text;
  std::string head;
  int width = 0, dim = 0;
  std::int64_t seed = 0;
  AudioInput input;
};

// True when run_dir/config.toml parses and says model.arch = "audio_cnn"; false otherwise (the
// conv net path then reports what is wrong).
bool is_audio_run(const std::string& run_dir);

// Throws ExportError naming the file and the field that is missing or out of range.
AudioRun read_audio_run(const std::string& run_dir);

ExportResult run_audio_export(const ExportOptions& options, std::FILE* log);

}  // namespace torus::train::exportq
