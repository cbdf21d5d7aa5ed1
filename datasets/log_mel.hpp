// Log-mel spectrograms as torchaudio computes them (MelSpectrogram, then AmplitudeToDB), so a model
// trained here sees what the same model in PyTorch would: a periodic Hann window of n_fft samples,
// frames every hop samples with the signal reflect-padded by n_fft / 2 at both ends (center),
// |FFT|^2 of each frame, a triangular mel filterbank between f_min and f_max (HTK or Slaney mel
// scale, optionally Slaney's area normalisation), then 10 log10(max(power, floor)).
// The FFT is KissFFT's real transform (Debian's libkissfft-dev, BSD): small, portable, and a
// mixed-radix algorithm whose fixed-point form is what an integer front end on a microcontroller
// runs (FFTW is faster on a PC but GPL-licensed, and its plans have no counterpart there).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torus::datasets {

enum class MelScale { htk, slaney };

struct LogMelConfig {  // defaults: method.md 13 (ProtoCLR's front end)
  int sample_rate = 16000;
  int n_fft = 1024;     // even, the window and FFT length
  int hop = 320;
  int n_mels = 128;
  double f_min = 50, f_max = 8000;
  MelScale scale = MelScale::htk;  // torchaudio's default
  bool slaney_norm = false;        // divide each filter by its width in Hz / 2 (torchaudio norm="slaney")
  double floor = 1e-10;            // AmplitudeToDB's amin: the power below which dB stop falling
};

// Throws std::invalid_argument naming the setting when the configuration cannot work (odd n_fft,
// f_max above Nyquist, more mel bands than the FFT can separate ...).
void validate(const LogMelConfig& config);

// Frequencies (n_fft / 2 + 1) x n_mels weights, row-major, exactly torchaudio's melscale_fbanks.
std::vector<float> mel_filterbank(const LogMelConfig& config);

// Frames of `samples` (at config.sample_rate): 1 + samples.size() / hop of them.
int64_t log_mel_frames(const LogMelConfig& config, int64_t samples);

// The log-mel spectrogram of `samples`, (n_mels, frames) row-major, in dB.
std::vector<float> log_mel(const LogMelConfig& config, const std::vector<float>& samples);

}  // namespace torus::datasets
