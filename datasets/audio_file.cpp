#include "datasets/audio_file.hpp"

#include "datasets/binary_file.hpp"
#include "nn/io/atomic_file.hpp"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

namespace torus::datasets {

namespace {
// libsndfile reads through these callbacks from the bytes in memory: it never opens the path itself.
struct MemoryFile {
  const std::string* bytes;
  sf_count_t position = 0;
};

sf_count_t memory_length(void* user) { return sf_count_t(static_cast<MemoryFile*>(user)->bytes->size()); }
sf_count_t memory_seek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t size = sf_count_t(f->bytes->size());
  sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? f->position + offset : size + offset;
  f->position = std::clamp<sf_count_t>(to, 0, size);
  return f->position;
}
sf_count_t memory_read(void* dst, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t n = std::clamp<sf_count_t>(sf_count_t(f->bytes->size()) - f->position, 0, std::max<sf_count_t>(count, 0));
  std::memcpy(dst, f->bytes->data() + f->position, size_t(n));
  f->position += n;
  return n;
}
sf_count_t memory_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t memory_tell(void* user) { return static_cast<MemoryFile*>(user)->position; }

// A RIFF/WAVE file whose "data" chunk declares more bytes than follow it was cut short: libsndfile
// quietly reads what there is, so the header is checked here. Returns the missing byte count.
uint64_t wav_missing_bytes(const std::string& bytes) {
  const auto u32 = [&](size_t at) {
    return uint32_t(uint8_t(bytes[at])) | uint32_t(uint8_t(bytes[at + 1])) << 8 | uint32_t(uint8_t(bytes[at + 2])) << 16 |
           uint32_t(uint8_t(bytes[at + 3])) << 24;
  };
  if (bytes.size() < 12 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WAVE") != 0) return 0;
  for (size_t at = 12; at + 8 <= bytes.size();) {
    const uint32_t size = u32(at + 4);
    const uint64_t available = bytes.size() - (at + 8);
    // 0xFFFFFFFF (and 0) is what streaming writers put before they know the length.
    if (bytes.compare(at, 4, "data") == 0) return size != 0xFFFFFFFFu && size > available ? size - available : 0;
    at += 8 + uint64_t(size) + (size & 1);  // chunks are padded to even sizes
  }
  return 0;
}

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
}  // namespace

std::vector<float> resample(const std::string& path, const std::vector<float>& samples, int in_rate, int out_rate) {
  if (in_rate == out_rate || samples.empty()) return samples;
  // The output length soxr produces for a whole signal: in * out / in, rounded.
  const size_t out_len = size_t(std::llround(double(samples.size()) * out_rate / in_rate));
  std::vector<float> out(out_len + 1);
  size_t done_in = 0, done_out = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  if (const soxr_error_t err = soxr_oneshot(double(in_rate), double(out_rate), 1, samples.data(), samples.size(),
                                            &done_in, out.data(), out.size(), &done_out, &io, &quality, nullptr))
    throw DataError(path + ": resampling from " + std::to_string(in_rate) + " Hz to " + std::to_string(out_rate) +
                    " Hz failed (libsoxr: " + err + ")");
  out.resize(std::min(done_out, out_len));
  return out;
}

Audio decode_audio(const std::string& path, const std::string& bytes, int target_rate, const AudioLimits& limits) {
  if (bytes.empty()) throw DataError(path + ": empty file (expected WAV, FLAC, OGG or MP3 audio)");
  if (const uint64_t missing = wav_missing_bytes(bytes))
    throw DataError(path + ": truncated: the WAV data chunk lacks its last " + std::to_string(missing) + " bytes");
  MemoryFile memory{&bytes};
  SF_VIRTUAL_IO io{memory_length, memory_seek, memory_read, memory_write, memory_tell};
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open_virtual(&io, SFM_READ, &info, &memory));
  if (!file)
    throw DataError(path + ": not a readable sound file (libsndfile: " + sf_strerror(nullptr) +
                    "; expected WAV, FLAC, OGG Vorbis or MP3)");
  if (info.channels < 1 || info.channels > limits.max_channels)
    throw DataError(path + ": " + std::to_string(info.channels) + " channels, expected 1 to " + std::to_string(limits.max_channels));
  if (info.samplerate < 1 || info.samplerate > limits.max_sample_rate)
    throw DataError(path + ": sample rate " + std::to_string(info.samplerate) + " Hz, expected 1 to " +
                    std::to_string(limits.max_sample_rate));
  // The declared length is checked before anything is allocated for it; compressed formats may
  // declare none or a wrong one, so the decoded length is bounded again while reading.
  const int64_t max_frames = int64_t(limits.max_seconds * info.samplerate);
  if (info.frames > max_frames)
    throw DataError(path + ": declares " + std::to_string(info.frames) + " frames (" +
                    std::to_string(double(info.frames) / info.samplerate) + " s), more than the limit of " +
                    std::to_string(limits.max_seconds) + " s");
  // Float reads of integer data scale to [-1, 1]; of float data they pass the values through.
  Audio audio;
  audio.source_rate = info.samplerate;
  audio.source_channels = info.channels;
  const int64_t chunk_frames = 1 << 16;
  std::vector<float> chunk(size_t(chunk_frames * info.channels));
  std::vector<float> mono;
  mono.reserve(size_t(std::max<sf_count_t>(0, std::min<sf_count_t>(info.frames, max_frames))));
  for (;;) {
    const sf_count_t got = sf_readf_float(file.get(), chunk.data(), chunk_frames);
    if (got <= 0) break;
    if (int64_t(mono.size()) + got > max_frames)
      throw DataError(path + ": decodes to more than the limit of " + std::to_string(limits.max_seconds) + " s");
    for (sf_count_t f = 0; f < got; ++f) {
      double sum = 0;
      for (int c = 0; c < info.channels; ++c) sum += chunk[size_t(f * info.channels + c)];
      const float v = float(sum / info.channels);
      if (!std::isfinite(v))
        throw DataError(path + ": sample " + std::to_string(mono.size()) + " is " + (std::isnan(v) ? "NaN" : "infinite"));
      mono.push_back(v);
    }
  }
  if (const int err = sf_error(file.get()); err != SF_ERR_NO_ERROR)
    throw DataError(path + ": decoding failed after " + std::to_string(mono.size()) + " frames (libsndfile: " +
                    sf_error_number(err) + "; a truncated or damaged file?)");
  if (mono.empty()) throw DataError(path + ": no samples (a sound file of zero length)");
  // Uncompressed and FLAC files state their length exactly: fewer frames means a cut file.
  // (OGG and MP3 state an estimate, or none.)
  const int container = info.format & SF_FORMAT_TYPEMASK;
  if (container != SF_FORMAT_OGG && container != SF_FORMAT_MPEG && int64_t(mono.size()) < int64_t(info.frames))
    throw DataError(path + ": truncated: the header declares " + std::to_string(info.frames) + " frames, the file holds " +
                    std::to_string(mono.size()));
  audio.sample_rate = target_rate > 0 ? target_rate : info.samplerate;
  audio.samples = resample(path, mono, info.samplerate, audio.sample_rate);
  if (audio.samples.empty())
    throw DataError(path + ": " + std::to_string(mono.size()) + " samples at " + std::to_string(info.samplerate) +
                    " Hz leave none at " + std::to_string(audio.sample_rate) + " Hz");
  return audio;
}

Audio read_audio(const std::string& path, int target_rate, const AudioLimits& limits) {
  const std::string bytes = detail::as_data_error([&] {
    const nn::io::InputFile file(path, "sound file");
    if (file.size() > uint64_t(limits.max_file_bytes))
      throw DataError(path + ": sound file of " + std::to_string(file.size()) + " bytes exceeds the " +
                      std::to_string(limits.max_file_bytes) + "-byte limit");
    std::string b(file.size(), '\0');
    file.read_at(0, b.size(), b.data());
    return b;
  });
  return decode_audio(path, bytes, target_rate, limits);
}

}  // namespace torus::datasets
