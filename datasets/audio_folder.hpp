// A labelled set of log-mel spectrograms from a folder of recordings, one subfolder per class:
//   root/<class name>/<clip>.wav|.flac|.ogg|.oga|.mp3
// Classes are sorted by name and numbered as image folders number them (image_folder_classes);
// clips of any length. Each clip is decoded (read_audio, resampled to the configured rate) and
// turned into its whole log-mel spectrogram (log_mel.hpp), in parallel, and cached on disk: a
// cache entry is keyed by the file's absolute path, size and modification time and by every
// feature setting, and holds the key itself, so a changed file or setting never reuses stale
// features. A file that fails to decode stops the load, naming it, unless skip_bad is set, when
// it is reported and left out.
#pragma once

#include "datasets/audio_file.hpp"
#include "datasets/log_mel.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::datasets {

struct AudioFolderOptions {
  LogMelConfig mel;        // mel.sample_rate is the rate every clip is resampled to
  std::string cache_dir;   // "" : no cache
  bool skip_bad = false;   // report and leave out files that fail, instead of stopping
  int threads = 2;
  AudioLimits limits;
};

struct AudioFolder {
  int n_mels = 0;
  std::vector<std::string> class_names;
  std::vector<int> labels;                      // per clip
  std::vector<std::string> files;               // per clip, relative to the root (or the manifest's folder)
  std::vector<double> starts, ends;             // per clip, its segment in seconds (0 and -1: the whole file)
  std::vector<std::vector<float>> spectrograms; // per clip, (n_mels, frames) row-major, dB
  std::vector<std::string> skipped;             // "file: reason", with skip_bad
  int64_t cache_hits = 0, cache_misses = 0;
  int64_t frames(size_t clip) const { return int64_t(spectrograms[clip].size()) / n_mels; }
  int64_t size() const { return int64_t(spectrograms.size()); }
  int classes() const { return int(class_names.size()); }
  // The clips at `indices`, in that order (class names and settings kept).
  AudioFolder subset(const std::vector<int64_t>& indices) const;
};

// The whole folder; with `classes`, a split labelled by that list (a folder not in it is refused).
AudioFolder load_audio_folder(const std::string& root, const AudioFolderOptions& options,
                              const std::vector<std::string>* classes = nullptr);

// The clips a CSV manifest lists (audio_manifest.hpp), each a whole file or a segment of one;
// classes numbered by their sorted names, or by `classes` (a label not in it is refused).
AudioFolder load_audio_manifest(const std::string& manifest, const AudioFolderOptions& options,
                                const std::vector<std::string>* classes = nullptr);

// The text every cache key of `options` contains: each feature setting by name.
std::string feature_settings_text(const AudioFolderOptions& options);

}  // namespace torus::datasets
