// input.json in a run folder: what the network's input is, so a tool (torus-embed, torus-export,
// the user's own code) feeds it exactly what training fed it, without re-deriving it from the
// dataset's name. For images: the shape (C, H, W), how files become that shape (image folders are
// resized to H x W by area averaging / bilinear, no crop at evaluation), and the per-channel mean
// and std the pixels in [0, 1] are normalised with; for sound: the log-mel settings, the crop
// (1, n_mels, frames) and the per-band mean and std the dB values are normalised with; for
// feature vectors: their length.
#pragma once

#include "datasets/augment.hpp"
#include "datasets/log_mel.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace torus::train {

struct InputRecord {
  bool images = true;
  bool log_mel = false;         // kind "log-mel" (images is then false)
  std::vector<int64_t> shape;   // (C, H, W), (1, n_mels, crop_frames) or (F)
  std::vector<float> mean, std; // per channel (images: pixel values scaled to [0, 1] first) or per mel band (dB)
  datasets::LogMelConfig mel;   // log-mel only
  std::string source;           // what the samples are read from: "fashion-mnist", "folder" ...
};

nlohmann::json to_json(const InputRecord& record);

// Writes run_dir/input.json atomically.
void write_input_record(const std::string& run_dir, const InputRecord& record);

// run_dir/input.json; `found` is false (and the record empty) for a run folder written before
// input.json existed. A malformed file throws ConfigError naming the file and the field.
InputRecord read_input_record(const std::string& run_dir, bool& found);

// The record of data shaped `shape` normalised by `normalization` (mean and std expanded to one
// value per channel); with `mel`, log-mel spectrograms with one mean and std per band.
InputRecord make_input_record(const std::string& source, const std::vector<int64_t>& shape,
                              const datasets::AugmentConfig& normalization, const datasets::LogMelConfig* mel = nullptr);

}  // namespace torus::train
