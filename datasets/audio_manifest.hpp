// A CSV manifest of annotated recordings, the alternative to a class-per-subfolder audio folder
// for long recordings with labelled segments (a soundscape annotated by an expert, a Xeno-canto
// download with a table of call times):
//   path,label[,start,end]
//   dawn/0412.flac,Turdus merula,12.5,14.0
// One row per clip: the file (relative to the manifest's folder unless absolute), its class name,
// and optionally the segment in seconds (start alone: to the end of the file). A first row whose
// first two fields are "path" and "label" is a header. Fields follow RFC 4180: a field with a
// comma or a quote is quoted, a quote inside one doubled. The reader is hardened (a size limit
// before reading, every row and field checked, fuzzed): each error names the file, the line and
// the field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torus::datasets {

struct ManifestRow {
  std::string path;   // as written (relative to the manifest's folder, or absolute)
  std::string label;  // the class name
  double start = 0;   // seconds
  double end = -1;    // seconds; -1: the end of the file
  int64_t line = 0;   // in the manifest, for messages
};

inline constexpr int64_t kMaxManifestBytes = int64_t(256) << 20;

// Throws DataError naming `source`, the line and the field.
std::vector<ManifestRow> parse_audio_manifest(const std::string& source, const std::string& text);

// Reads and parses the file (a regular file of at most kMaxManifestBytes).
std::vector<ManifestRow> read_audio_manifest(const std::string& path);

}  // namespace torus::datasets
