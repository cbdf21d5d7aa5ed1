#include "datasets/audio_folder.hpp"

#include "datasets/audio_manifest.hpp"

#include "datasets/binary_file.hpp"
#include "datasets/folder_listing.hpp"
#include "datasets/image_folder.hpp"
#include "nn/io/atomic_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

namespace torus::datasets {

namespace {
namespace fs = std::filesystem;

constexpr char kCacheMagic[8] = {'T', 'O', 'R', 'U', 'S', 'M', 'E', 'L'};

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The file's identity for the cache: absolute path, size, modification time to the nanosecond.
std::string file_key(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw DataError(file.string() + ": cannot stat (" + std::strerror(errno) + ")");
  return fs::absolute(file).lexically_normal().string() + "\n" + std::to_string(st.st_size) + "\n" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

// Entry layout: magic, key length (uint32), key, n_mels (uint32), frames (uint64), floats.
std::string encode_entry(const std::string& key, int n_mels, const std::vector<float>& m) {
  std::string out(kCacheMagic, 8);
  const auto put = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
  const uint32_t key_len = uint32_t(key.size()), mels = uint32_t(n_mels);
  const uint64_t frames = m.size() / size_t(n_mels);
  put(&key_len, 4);
  out += key;
  put(&mels, 4);
  put(&frames, 8);
  put(m.data(), m.size() * sizeof(float));
  return out;
}

// The spectrogram of a cache entry whose key is `key`; false for anything else (a stale, foreign
// or damaged entry is recomputed, never trusted).
bool decode_entry(const std::string& bytes, const std::string& key, int n_mels, std::vector<float>& m) {
  size_t at = 0;
  const auto take = [&](void* p, size_t n) {
    if (at + n > bytes.size()) return false;
    std::memcpy(p, bytes.data() + at, n);
    at += n;
    return true;
  };
  char magic[8];
  uint32_t key_len = 0, mels = 0;
  uint64_t frames = 0;
  if (!take(magic, 8) || std::memcmp(magic, kCacheMagic, 8) != 0 || !take(&key_len, 4) || key_len != key.size() ||
      at + key_len > bytes.size() || bytes.compare(at, key_len, key) != 0)
    return false;
  at += key_len;
  if (!take(&mels, 4) || int(mels) != n_mels || !take(&frames, 8)) return false;
  if (frames > (bytes.size() - at) / sizeof(float) / std::max<uint64_t>(mels, 1) ||
      bytes.size() - at != frames * mels * sizeof(float))
    return false;
  m.resize(size_t(frames * mels));
  return take(m.data(), m.size() * sizeof(float));
}

// One clip to load: a whole file, or a segment [start, end) seconds of it (a manifest row).
struct ClipItem {
  fs::path file;
  std::string relative;  // as listed: relative to the folder or the manifest, for messages and files
  int label = 0;
  double start = 0, end = -1;  // seconds; end -1: to the end of the file
  bool segment() const { return start > 0 || end >= 0; }
};

// The samples of [start, end) seconds; a segment beyond the file's end is an error, not silence.
std::vector<float> cut_segment(const ClipItem& c, const std::vector<float>& samples, int rate) {
  const double total = double(samples.size()) / rate;
  const int64_t first = int64_t(std::llround(c.start * rate));
  const int64_t last = c.end < 0 ? int64_t(samples.size()) : std::min<int64_t>(int64_t(std::llround(c.end * rate)), int64_t(samples.size()));
  if (first >= int64_t(samples.size()) || last - first < 1)
    throw DataError(c.file.string() + ": segment " + std::to_string(c.start) + " s to " +
                    (c.end < 0 ? std::string("the end") : std::to_string(c.end) + " s") + " lies outside the recording (" +
                    std::to_string(total) + " s)");
  if (c.end >= 0 && c.end > total + 0.5 / rate)
    throw DataError(c.file.string() + ": segment end " + std::to_string(c.end) + " s is after the recording's end (" +
                    std::to_string(total) + " s)");
  return std::vector<float>(samples.begin() + first, samples.begin() + last);
}

std::vector<float> clip_features(const ClipItem& clip, const AudioFolderOptions& o, const std::string& settings,
                                 std::atomic<int64_t>& hits, std::atomic<int64_t>& misses) {
  const fs::path& file = clip.file;
  std::string key, entry_path;
  if (!o.cache_dir.empty()) {
    char segment[80] = "";
    if (clip.segment()) std::snprintf(segment, sizeof segment, "\nsegment %.17g %.17g", clip.start, clip.end);
    key = settings + "\n" + file_key(file) + segment;
    char name[32];
    std::snprintf(name, sizeof name, "%016llx.logmel", static_cast<unsigned long long>(fnv1a(key)));
    entry_path = (fs::path(o.cache_dir) / name).string();
    std::vector<float> cached;
    std::error_code ec;
    if (fs::is_regular_file(entry_path, ec)) {
      try {
        if (decode_entry(nn::io::read_file(entry_path), key, o.mel.n_mels, cached)) {
          ++hits;
          return cached;
        }
      } catch (const nn::io::IoError&) {
        // An unreadable entry is recomputed and rewritten.
      }
    }
  }
  const Audio audio = read_audio(file.string(), o.mel.sample_rate, o.limits);
  std::vector<float> m;
  try {
    m = clip.segment() ? log_mel(o.mel, cut_segment(clip, audio.samples, audio.sample_rate)) : log_mel(o.mel, audio.samples);
  } catch (const std::invalid_argument& e) {
    throw DataError(file.string() + ": " + e.what());
  }
  ++misses;
  if (!entry_path.empty()) {
    detail::as_data_error([&] { nn::io::write_file_atomic(entry_path, encode_entry(key, o.mel.n_mels, m), nn::io::Durability::unsynced); },
                          " (the feature cache; set another cache folder or none)");
  }
  return m;
}
}  // namespace

std::string feature_settings_text(const AudioFolderOptions& o) {
  const LogMelConfig& c = o.mel;
  char buf[256];
  std::snprintf(buf, sizeof buf, "logmel v1 rate=%d n_fft=%d hop=%d n_mels=%d f_min=%.17g f_max=%.17g scale=%s norm=%d floor=%.17g",
                c.sample_rate, c.n_fft, c.hop, c.n_mels, c.f_min, c.f_max, c.scale == MelScale::htk ? "htk" : "slaney",
                int(c.slaney_norm), c.floor);
  return buf;
}

namespace {
// Every clip in parallel; results land in their own slots, so the order is the listing's.
AudioFolder load_clips(const std::vector<ClipItem>& items, std::vector<std::string> class_names, const std::string& source,
                       const AudioFolderOptions& o) {
  AudioFolder set;
  set.n_mels = o.mel.n_mels;
  set.class_names = std::move(class_names);
  if (!o.cache_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.cache_dir, ec);
    if (ec) throw DataError(o.cache_dir + ": cannot create the feature cache folder (" + ec.message() + ")");
  }
  const std::string settings = feature_settings_text(o);
  std::vector<std::vector<float>> features(items.size());
  std::vector<std::string> errors(items.size());
  std::atomic<size_t> next{0};
  std::atomic<int64_t> hits{0}, misses{0};
  std::atomic<bool> stop{false};
  const auto work = [&] {
    for (size_t i; !stop && (i = next++) < items.size();) {
      try {
        features[i] = clip_features(items[i], o, settings, hits, misses);
      } catch (const DataError& e) {
        errors[i] = e.what();
        if (!o.skip_bad) stop = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, o.threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < items.size(); ++i) {
    if (errors[i].empty() && features[i].empty()) continue;  // not reached after a stop
    if (!errors[i].empty()) {
      if (!o.skip_bad) throw DataError(errors[i] + " (set data.skip_bad = true to leave such files out)");
      set.skipped.push_back(errors[i]);
      continue;
    }
    set.labels.push_back(items[i].label);
    set.files.push_back(items[i].relative);
    set.starts.push_back(items[i].start);
    set.ends.push_back(items[i].end);
    set.spectrograms.push_back(std::move(features[i]));
  }
  set.cache_hits = hits, set.cache_misses = misses;
  if (set.spectrograms.empty()) throw DataError(source + ": no clip could be read (" + std::to_string(set.skipped.size()) + " skipped)");
  return set;
}
}  // namespace

AudioFolder load_audio_folder(const std::string& root, const AudioFolderOptions& o, const std::vector<std::string>* classes) {
  validate(o.mel);
  const std::vector<std::string> found = image_folder_classes(root);
  const std::vector<std::string> class_names = classes ? *classes : found;
  std::vector<ClipItem> items;
  for (const std::string& cls : found) {
    const auto it = std::find(class_names.begin(), class_names.end(), cls);
    if (it == class_names.end())
      throw DataError((fs::path(root) / cls).string() + ": class folder \"" + cls + "\" is not one of the " +
                      std::to_string(class_names.size()) + " training classes");
    const auto clips = detail::sorted_entries(fs::path(root) / cls, [](const fs::directory_entry& e) {
      std::error_code ec;
      return !e.is_directory(ec) && detail::has_extension(e.path().filename().string(), {"wav", "flac", "ogg", "oga", "mp3"});
    });
    if (clips.empty())
      throw DataError((fs::path(root) / cls).string() + ": class folder without sound files (expected .wav, .flac, .ogg or .mp3)");
    for (const std::string& c : clips) {
      ClipItem item;
      item.relative = (fs::path(cls) / c).string();
      item.file = fs::path(root) / item.relative;
      item.label = int(it - class_names.begin());
      items.push_back(std::move(item));
    }
  }
  return load_clips(items, class_names, root, o);
}

AudioFolder load_audio_manifest(const std::string& manifest, const AudioFolderOptions& o, const std::vector<std::string>* classes) {
  validate(o.mel);
  const std::vector<ManifestRow> rows = read_audio_manifest(manifest);
  std::vector<std::string> class_names;
  if (classes) {
    class_names = *classes;
  } else {
    for (const ManifestRow& r : rows) class_names.push_back(r.label);
    std::sort(class_names.begin(), class_names.end());
    class_names.erase(std::unique(class_names.begin(), class_names.end()), class_names.end());
  }
  const fs::path base = fs::path(manifest).parent_path();
  std::vector<ClipItem> items;
  for (const ManifestRow& r : rows) {
    const auto it = std::find(class_names.begin(), class_names.end(), r.label);
    if (it == class_names.end())
      throw DataError(manifest + ":" + std::to_string(r.line) + ": field 'label': \"" + r.label + "\" is not one of the " +
                      std::to_string(class_names.size()) + " training classes");
    ClipItem item;
    item.relative = r.path;
    item.file = fs::path(r.path).is_absolute() ? fs::path(r.path) : base / r.path;
    item.label = int(it - class_names.begin());
    item.start = r.start, item.end = r.end;
    items.push_back(std::move(item));
  }
  return load_clips(items, class_names, manifest, o);
}

AudioFolder AudioFolder::subset(const std::vector<int64_t>& indices) const {
  AudioFolder out;
  out.n_mels = n_mels;
  out.class_names = class_names;
  for (const int64_t i : indices) {
    out.labels.push_back(labels.at(size_t(i)));
    out.files.push_back(files.at(size_t(i)));
    out.starts.push_back(starts.empty() ? 0.0 : starts.at(size_t(i)));
    out.ends.push_back(ends.empty() ? -1.0 : ends.at(size_t(i)));
    out.spectrograms.push_back(spectrograms.at(size_t(i)));
  }
  return out;
}

}  // namespace torus::datasets
