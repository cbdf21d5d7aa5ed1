// torus-export for an audio run folder (model.arch = "audio_cnn", model.head = "torusN"): reads
// config.toml's [model] and [audio] sections and input.json's per-band mean and std with a small
// reader of its own (the training side's TrainConfig does not know [audio] yet), loads the
// checkpoint's weights and batch-norm buffers, calibrates on crops of synthetic calls made at the
// run's sample rate (the training side has no audio loader to draw real crops from yet; the
// report says so), quantises (audio_model.hpp), writes the C (audio_codegen.hpp) and with --check
// compiles and runs it against the C++ integer reference bit for bit and against the float model.
#pragma once

#include "train/export/audio_model.hpp"
#include "train/export/export_run.hpp"

#include <cstdio>
#include <string>

namespace torus::train::exportq {

struct AudioRun {
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
