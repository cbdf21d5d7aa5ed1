#include "datasets/log_mel.hpp"

#include <kiss_fftr.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace torus::datasets {

namespace {
constexpr double kPi = 3.14159265358979323846;

// The two mel scales of torchaudio.functional (_hz_to_mel / _mel_to_hz).
double hz_to_mel(double f, MelScale scale) {
  if (scale == MelScale::htk) return 2595.0 * std::log10(1.0 + f / 700.0);
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp, logstep = std::log(6.4) / 27.0;
  return f < min_log_hz ? f / f_sp : min_log_mel + std::log(f / min_log_hz) / logstep;
}
double mel_to_hz(double m, MelScale scale) {
  if (scale == MelScale::htk) return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0);
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp, logstep = std::log(6.4) / 27.0;
  return m < min_log_mel ? f_sp * m : min_log_hz * std::exp(logstep * (m - min_log_mel));
}

struct KissFree {
  void operator()(kiss_fftr_cfg c) const { kiss_fftr_free(c); }
};
}  // namespace

void validate(const LogMelConfig& c) {
  const auto bad = [](const std::string& what) { throw std::invalid_argument("log-mel: " + what); };
  if (c.sample_rate < 1000 || c.sample_rate > 768000) bad("sample_rate " + std::to_string(c.sample_rate) + ", expected 1000 to 768000");
  if (c.n_fft < 16 || c.n_fft > 65536 || c.n_fft % 2) bad("n_fft " + std::to_string(c.n_fft) + ", expected an even size in [16, 65536]");
  if (c.hop < 1 || c.hop > c.n_fft) bad("hop " + std::to_string(c.hop) + ", expected 1 to n_fft");
  if (c.n_mels < 1 || c.n_mels > c.n_fft / 2 + 1) bad("n_mels " + std::to_string(c.n_mels) + ", expected 1 to n_fft / 2 + 1");
  if (!(c.f_min >= 0 && c.f_min < c.f_max && c.f_max <= c.sample_rate / 2.0))
    bad("f_min " + std::to_string(c.f_min) + " and f_max " + std::to_string(c.f_max) + ", expected 0 <= f_min < f_max <= " +
        std::to_string(c.sample_rate / 2) + " (Nyquist)");
  if (!(c.floor > 0)) bad("floor " + std::to_string(c.floor) + ", expected a positive power");
}

std::vector<float> mel_filterbank(const LogMelConfig& c) {
  validate(c);
  const int n_freqs = c.n_fft / 2 + 1;
  std::vector<double> mel_points(size_t(c.n_mels + 2)), hz(size_t(c.n_mels + 2));
  const double m_min = hz_to_mel(c.f_min, c.scale), m_max = hz_to_mel(c.f_max, c.scale);
  for (int i = 0; i < c.n_mels + 2; ++i) {
    // torch.linspace(m_min, m_max, n_mels + 2)
    mel_points[size_t(i)] = m_min + (m_max - m_min) * i / (c.n_mels + 1);
    hz[size_t(i)] = mel_to_hz(mel_points[size_t(i)], c.scale);
  }
  std::vector<float> fb(size_t(n_freqs) * size_t(c.n_mels));
  for (int f = 0; f < n_freqs; ++f) {
    const double freq = double(c.sample_rate / 2) * f / (n_freqs - 1);  // torch.linspace(0, sr // 2, n_freqs)
    for (int m = 0; m < c.n_mels; ++m) {
      const double down = (freq - hz[size_t(m)]) / (hz[size_t(m + 1)] - hz[size_t(m)]);
      const double up = (hz[size_t(m + 2)] - freq) / (hz[size_t(m + 2)] - hz[size_t(m + 1)]);
      double w = std::max(0.0, std::min(down, up));
      if (c.slaney_norm) w *= 2.0 / (hz[size_t(m + 2)] - hz[size_t(m)]);
      fb[size_t(f) * size_t(c.n_mels) + size_t(m)] = float(w);
    }
  }
  return fb;
}

int64_t log_mel_frames(const LogMelConfig& c, int64_t samples) { return 1 + samples / c.hop; }

std::vector<float> log_mel(const LogMelConfig& c, const std::vector<float>& samples) {
  validate(c);
  const int64_t n = int64_t(samples.size());
  const int half = c.n_fft / 2;
  // torch.stft(center=True, pad_mode="reflect") needs the signal longer than the padding.
  if (n <= half)
    throw std::invalid_argument("log-mel: " + std::to_string(n) + " samples, fewer than the " + std::to_string(half + 1) +
                                " that reflect padding by n_fft / 2 needs");
  const int n_freqs = half + 1;
  const int64_t frames = log_mel_frames(c, n);
  const std::vector<float> fb = mel_filterbank(c);
  std::vector<float> window(size_t(c.n_fft));
  for (int i = 0; i < c.n_fft; ++i) window[size_t(i)] = float(0.5 - 0.5 * std::cos(2 * kPi * i / c.n_fft));  // periodic Hann
  std::unique_ptr<std::remove_pointer_t<kiss_fftr_cfg>, KissFree> fft(kiss_fftr_alloc(c.n_fft, 0, nullptr, nullptr));
  if (!fft) throw std::runtime_error("log-mel: KissFFT could not plan a real FFT of size " + std::to_string(c.n_fft));
  // Sample i of the reflect-padded signal: ... x2 x1 | x0 x1 ... x(n-1) | x(n-2) x(n-3) ...
  const auto padded = [&](int64_t i) {
    int64_t j = i - half;
    if (j < 0) j = -j;
    if (j >= n) j = 2 * (n - 1) - j;
    return samples[size_t(j)];
  };
  std::vector<float> frame(static_cast<size_t>(c.n_fft)), power(static_cast<size_t>(n_freqs));
  std::vector<kiss_fft_cpx> spectrum(static_cast<size_t>(n_freqs));
  // Each triangular filter is non-zero over a few frequencies only: its [first, last) range, so a
  // frame costs about 2 n_freqs multiplies instead of n_freqs n_mels (the same sums, same order).
  std::vector<int> first(size_t(c.n_mels), n_freqs), last(size_t(c.n_mels), 0);
  for (int f = 0; f < n_freqs; ++f)
    for (int m = 0; m < c.n_mels; ++m)
      if (fb[size_t(f) * size_t(c.n_mels) + size_t(m)] != 0.0f) {
        first[size_t(m)] = std::min(first[size_t(m)], f);
        last[size_t(m)] = std::max(last[size_t(m)], f + 1);
      }
  std::vector<float> out(size_t(c.n_mels) * size_t(frames));
  for (int64_t t = 0; t < frames; ++t) {
    for (int i = 0; i < c.n_fft; ++i) frame[size_t(i)] = padded(t * c.hop + i) * window[size_t(i)];
    kiss_fftr(fft.get(), frame.data(), spectrum.data());
    for (int f = 0; f < n_freqs; ++f)
      power[size_t(f)] = spectrum[size_t(f)].r * spectrum[size_t(f)].r + spectrum[size_t(f)].i * spectrum[size_t(f)].i;
    for (int m = 0; m < c.n_mels; ++m) {
      double mel = 0;
      for (int f = first[size_t(m)]; f < last[size_t(m)]; ++f) mel += double(power[size_t(f)]) * fb[size_t(f) * size_t(c.n_mels) + size_t(m)];
      out[size_t(m) * size_t(frames) + size_t(t)] = float(10.0 * std::log10(std::max(mel, c.floor)));
    }
  }
  return out;
}

}  // namespace torus::datasets
