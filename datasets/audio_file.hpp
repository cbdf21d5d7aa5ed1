// Sound files to mono float samples at a chosen rate. Decoding is libsndfile's (WAV in PCM 8/16/24/
// 32-bit and float 32/64, FLAC, OGG Vorbis, MP3), from memory over the file's bytes (a regular
// file within a size limit, read through torus_file, so a FIFO or a device is refused at once);
// channels are mixed down by their mean; a rate other than the target is converted by libsoxr
// (its high-quality setting: a real band-limited resampler, never dropped samples).
// Every failure is a DataError that names the file and what was wrong.
#pragma once

#include "datasets/image_file.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::datasets {

// What a file may declare before anything is allocated for its samples.
struct AudioLimits {
  int64_t max_file_bytes = int64_t(1) << 30;    // 1 GiB
  double max_seconds = 3600;                    // one hour of sound per file
  int max_channels = 64;
  int max_sample_rate = 768000;
};

struct Audio {
  int sample_rate = 0;         // of `samples`: the target rate asked for
  std::vector<float> samples;  // mono, the decoder's full scale is [-1, 1]
  int source_rate = 0;         // the file's own rate and channel count, for messages and manifests
  int source_channels = 0;
};

// target_rate 0 keeps the file's rate.
Audio read_audio(const std::string& path, int target_rate, const AudioLimits& limits = {});

// The same from bytes already in memory (the fuzz target's entry; `path` is only for messages).
Audio decode_audio(const std::string& path, const std::string& bytes, int target_rate, const AudioLimits& limits = {});

// libsoxr's high-quality conversion of mono samples from in_rate to out_rate.
std::vector<float> resample(const std::string& path, const std::vector<float>& samples, int in_rate, int out_rate);

}  // namespace torus::datasets
