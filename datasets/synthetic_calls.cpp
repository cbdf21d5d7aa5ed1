#include "datasets/synthetic_calls.hpp"

#include "datasets/binary_file.hpp"
#include "datasets/image_file.hpp"
#include "nn/io/atomic_file.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

namespace torus::datasets {

namespace {
constexpr double kPi = 3.14159265358979323846;

const char* family_name(CallFamily f) {
  switch (f) {
    case CallFamily::chirp: return "chirp";
    case CallFamily::trill: return "trill";
    case CallFamily::harmonic_stack: return "stack";
    case CallFamily::click_train: return "clicks";
  }
  return "call";
}

// A generator for one purpose, keyed so that no two purposes share a stream.
std::mt19937_64 stream(uint64_t seed, uint64_t a, uint64_t b, uint64_t purpose) {
  std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(a), uint32_t(b), uint32_t(purpose)};
  return std::mt19937_64(seq);
}

// A smooth on/off envelope (raised cosine over the first and last 10%), so calls do not click.
double envelope(double t, double duration) {
  const double ramp = 0.1 * duration;
  if (t < 0 || t > duration) return 0;
  if (t < ramp) return 0.5 - 0.5 * std::cos(kPi * t / ramp);
  if (t > duration - ramp) return 0.5 - 0.5 * std::cos(kPi * (duration - t) / ramp);
  return 1;
}

// Adds one call of `c` starting at sample `start`.
void add_call(const SpeciesCall& c, int rate, int64_t start, std::vector<double>& out) {
  const int64_t n = int64_t(c.duration * rate);
  double phase = 0;
  for (int64_t i = 0; i < n && start + i < int64_t(out.size()); ++i) {
    const double t = double(i) / rate;
    double v = 0;
    switch (c.family) {
      case CallFamily::chirp: {  // exponential sweep f0 -> f1
        const double f = c.f0 * std::pow(c.f1 / c.f0, t / c.duration);
        phase += 2 * kPi * f / rate;
        v = std::sin(phase);
        break;
      }
      case CallFamily::trill: {  // notes alternating between f0 and f1
        const double note = 1.0 / c.rate;
        const int k = int(t / note);
        const double f = k % 2 ? c.f1 : c.f0;
        phase += 2 * kPi * f / rate;
        v = std::sin(phase) * envelope(t - k * note, 0.8 * note);
        break;
      }
      case CallFamily::harmonic_stack: {  // a fundamental and decaying partials, slight vibrato
        const double f = c.f0 * (1 + 0.02 * std::sin(2 * kPi * 6 * t));
        phase += 2 * kPi * f / rate;
        for (int h = 0; h <= c.harmonics; ++h) v += std::sin((h + 1) * phase) / (h + 1);
        v *= 0.6;
        break;
      }
      case CallFamily::click_train: {  // short decaying bursts at f0, `rate` per second
        const double period = 1.0 / c.rate, since = std::fmod(t, period);
        v = since < 0.004 ? std::sin(2 * kPi * c.f0 * since) * std::exp(-since / 0.001) : 0;
        break;
      }
    }
    out[size_t(start + i)] += v * envelope(t, c.duration);
  }
}

struct VirtualBuffer {
  std::string bytes;
  sf_count_t position = 0;
};
sf_count_t vb_length(void* u) { return sf_count_t(static_cast<VirtualBuffer*>(u)->bytes.size()); }
sf_count_t vb_seek(sf_count_t offset, int whence, void* u) {
  auto* b = static_cast<VirtualBuffer*>(u);
  const sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? b->position + offset : sf_count_t(b->bytes.size()) + offset;
  b->position = std::max<sf_count_t>(0, to);
  return b->position;
}
sf_count_t vb_read(void* dst, sf_count_t count, void* u) {
  auto* b = static_cast<VirtualBuffer*>(u);
  const sf_count_t n = std::clamp<sf_count_t>(sf_count_t(b->bytes.size()) - b->position, 0, count);
  std::memcpy(dst, b->bytes.data() + b->position, size_t(n));
  b->position += n;
  return n;
}
sf_count_t vb_write(const void* src, sf_count_t count, void* u) {
  auto* b = static_cast<VirtualBuffer*>(u);
  if (size_t(b->position + count) > b->bytes.size()) b->bytes.resize(size_t(b->position + count));
  std::memcpy(b->bytes.data() + b->position, src, size_t(count));
  b->position += count;
  return count;
}
sf_count_t vb_tell(void* u) { return static_cast<VirtualBuffer*>(u)->position; }
}  // namespace

SpeciesCall SyntheticCalls::species_call(int s) const {
  auto g = stream(seed, uint64_t(s), 0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  SpeciesCall c{CallFamily(s % 4), 0, 0, 0, 0, 0};
  const double nyquist = sample_rate / 2.0;
  const double lo = 300, hi = std::min(6000.0, 0.8 * nyquist);
  c.f0 = lo * std::pow(hi / lo, u(g));
  c.f1 = std::clamp(c.f0 * (0.5 + 1.5 * u(g)), lo, hi);
  c.duration = 0.15 + 0.35 * u(g);
  c.rate = 8 + 22 * u(g);
  c.harmonics = 1 + int(4 * u(g));
  return c;
}

std::vector<float> SyntheticCalls::clip(int s, int index) const {
  const SpeciesCall base = species_call(s);
  auto g = stream(seed, uint64_t(s), uint64_t(index), 2);
  std::uniform_real_distribution<double> u(0, 1);
  // The individual singing: its own fixed offsets of the species' parameters (about 5%).
  const int who = int(u(g) * individuals);
  auto gi = stream(seed, uint64_t(s), uint64_t(who), 3);
  std::normal_distribution<double> jitter(0, 0.05);
  SpeciesCall c = base;
  c.f0 *= 1 + jitter(gi), c.f1 *= 1 + jitter(gi), c.duration *= 1 + jitter(gi), c.rate *= 1 + jitter(gi);
  const int64_t n = int64_t(clip_seconds * sample_rate);
  std::vector<double> x(static_cast<size_t>(n), 0.0);
  const int calls = 1 + int(u(g) * 3);
  for (int k = 0; k < calls; ++k) {
    const double start = u(g) * std::max(0.0, clip_seconds - c.duration);
    add_call(c, sample_rate, int64_t(start * sample_rate), x);
  }
  double signal = 0;
  for (double v : x) signal += v * v;
  signal = std::sqrt(signal / double(n));
  const double snr = snr_db_min + (snr_db_max - snr_db_min) * u(g);
  std::normal_distribution<double> noise(0, std::max(signal, 1e-3) * std::pow(10.0, -snr / 20));
  double peak = 1e-9;
  for (double& v : x) {
    v += noise(g);
    peak = std::max(peak, std::fabs(v));
  }
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[size_t(i)] = float(0.7 * x[size_t(i)] / peak);
  return out;
}

std::string encode_audio(const std::vector<float>& samples, int sample_rate, const std::string& format) {
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 1;
  if (format == "wav") info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  else if (format == "flac") info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  else if (format == "ogg") info.format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  else throw DataError("encode_audio: unknown format \"" + format + "\" (expected wav, flac or ogg)");
  VirtualBuffer buffer;
  SF_VIRTUAL_IO io{vb_length, vb_seek, vb_read, vb_write, vb_tell};
  SNDFILE* f = sf_open_virtual(&io, SFM_WRITE, &info, &buffer);
  if (!f) throw DataError(std::string("encode_audio: libsndfile cannot write ") + format + ": " + sf_strerror(nullptr));
  const sf_count_t written = sf_writef_float(f, samples.data(), sf_count_t(samples.size()));
  const int closed = sf_close(f);
  if (written != sf_count_t(samples.size()) || closed != 0)
    throw DataError(std::string("encode_audio: libsndfile failed writing ") + format);
  return buffer.bytes;
}

std::vector<std::string> write_synthetic_calls(const SyntheticCalls& corpus, const std::string& out_dir,
                                               const std::vector<std::string>& formats) {
  std::vector<std::string> names;
  for (int s = 0; s < corpus.species; ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "s%02d_%s", s, family_name(corpus.species_call(s).family));
    names.push_back(name);
    const std::filesystem::path dir = std::filesystem::path(out_dir) / name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw DataError(dir.string() + ": cannot create the folder (" + ec.message() + ")");
    for (int k = 0; k < corpus.clips_per_species; ++k) {
      const std::string& format = formats[size_t(k) % formats.size()];
      char file[32];
      std::snprintf(file, sizeof file, "clip%03d.%s", k, format.c_str());
      const std::string path = (dir / file).string();
      const std::string bytes = encode_audio(corpus.clip(s, k), corpus.sample_rate, format);
      detail::as_data_error([&] { nn::io::write_file_atomic(path, bytes); });
    }
  }
  return names;
}

}  // namespace torus::datasets
