// Sound decoding limits and the log-mel front end's maths (audio_file.hpp, log_mel.hpp). Decoding
// against sox and log-mel against torchaudio are in audio_interop.py.
#include <catch2/catch.hpp>

#include "datasets/audio_file.hpp"
#include "datasets/log_mel.hpp"

#include <cmath>
#include <fstream>
#include <numeric>

using namespace torus::datasets;

namespace {
std::string corpus(const std::string& name) { return std::string(TORUS_FUZZ_CORPUS) + "/audio/" + name; }
}  // namespace

TEST_CASE("the kept sound files decode, and hostile ones are refused before allocating", "[datasets][audio]") {
  const Audio a = read_audio(corpus("pcm16_mono.wav"), 0);
  CHECK(a.sample_rate == 16000);
  CHECK(a.samples.size() == 800);
  CHECK(a.samples[40] == Approx(0.4 * std::sin(2 * M_PI * 440 * 40 / 16000.0)).margin(1.0 / 32768));
  const Audio stereo = read_audio(corpus("float_stereo_22050.wav"), 0);
  CHECK(stereo.source_channels == 2);
  CHECK(std::fabs(stereo.samples[40]) < 1e-7);  // x and -x mix to silence
  CHECK(read_audio(corpus("pcm8_8000.wav"), 16000).samples.size() == 1600);  // resampled, not dropped or repeated
  AudioLimits small;
  small.max_channels = 8;
  CHECK_THROWS_WITH(read_audio(corpus("wav_declares_hours.wav"), 0, small),
                    Catch::Contains("64 channels, expected 1 to 8"));
  small.max_seconds = 0.01;
  CHECK_THROWS_WITH(read_audio(corpus("pcm16_mono.wav"), 0, small), Catch::Contains("more than the limit of 0.01"));
  AudioLimits tiny_file;
  tiny_file.max_file_bytes = 100;
  CHECK_THROWS_WITH(read_audio(corpus("pcm16_mono.wav"), 0, tiny_file), Catch::Contains("exceeds the 100-byte limit"));
  CHECK_THROWS_WITH(read_audio(corpus("wav_float_nan.wav"), 0), Catch::Contains("sample 1 is NaN"));
  CHECK_THROWS_WITH(read_audio(corpus("wav_truncated.wav"), 0), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read_audio(corpus("missing.wav"), 0), Catch::Contains("missing.wav"));
}

TEST_CASE("the mel filterbank is torchaudio's: triangles between mel-spaced points", "[datasets][audio]") {
  LogMelConfig c;
  const std::vector<float> fb = mel_filterbank(c);
  const int n_freqs = c.n_fft / 2 + 1;
  REQUIRE(fb.size() == size_t(n_freqs * c.n_mels));
  // Every weight in [0, 1], every filter non-empty, nothing below f_min or above f_max.
  for (int m = 0; m < c.n_mels; ++m) {
    float peak = 0;
    for (int f = 0; f < n_freqs; ++f) {
      const float w = fb[size_t(f * c.n_mels + m)];
      CHECK(w >= 0.0f);
      CHECK(w <= 1.0f);
      peak = std::max(peak, w);
      const double hz = 8000.0 * f / (n_freqs - 1);
      if (hz < c.f_min || hz > c.f_max) CHECK(w == 0.0f);
    }
    CHECK(peak > 0.3f);
  }
  // Slaney's normalisation divides each triangle by half its width in Hz: areas become equal-ish.
  c.slaney_norm = true;
  c.scale = MelScale::slaney;
  const std::vector<float> norm = mel_filterbank(c);
  CHECK(*std::max_element(norm.begin(), norm.end()) < 0.1f);
}

TEST_CASE("log_mel: frames, a tone in its band, the floor, and bad settings named", "[datasets][audio]") {
  LogMelConfig c;
  std::vector<float> tone(16000);
  for (size_t i = 0; i < tone.size(); ++i) tone[i] = float(0.5 * std::sin(2 * M_PI * 1000.0 * double(i) / 16000));
  const std::vector<float> m = log_mel(c, tone);
  const int64_t frames = log_mel_frames(c, 16000);
  CHECK(frames == 51);
  REQUIRE(m.size() == size_t(c.n_mels * frames));
  // In a middle frame the loudest band is the one whose triangle holds 1 kHz.
  int loudest = 0;
  for (int b = 1; b < c.n_mels; ++b)
    if (m[size_t(b * frames + 25)] > m[size_t(loudest * frames + 25)]) loudest = b;
  const std::vector<float> fb = mel_filterbank(c);
  const int bin = int(std::lround(1000.0 / 8000 * (c.n_fft / 2)));  // 1 kHz is FFT bin 64
  CHECK(fb[size_t(bin * c.n_mels + loudest)] > 0.4f);
  // Silence sits at the floor: 10 log10(1e-10) = -100 dB.
  const std::vector<float> quiet = log_mel(c, std::vector<float>(4000, 0.0f));
  CHECK(*std::max_element(quiet.begin(), quiet.end()) == Approx(-100.0f));
  CHECK_THROWS_WITH(log_mel(c, std::vector<float>(100, 0.0f)), Catch::Contains("100 samples"));
  c.n_fft = 1023;
  CHECK_THROWS_WITH(log_mel(c, tone), Catch::Contains("n_fft 1023"));
  c.n_fft = 1024;
  c.f_max = 9000;
  CHECK_THROWS_WITH(log_mel(c, tone), Catch::Contains("f_max") && Catch::Contains("Nyquist"));
}
