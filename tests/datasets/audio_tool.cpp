// The C++ side of audio_interop.py: decodes a sound file or computes its log-mel spectrogram with
// our code and writes the result as .npy for numpy and torchaudio to compare; an error is printed
// on stderr with exit status 1.
//   audio_tool decode FILE RATE OUT.npy        mono float32 samples (RATE 0: the file's own); prints the rate
//   audio_tool logmel FILE OUT.npy [slaney]    (n_mels, frames) dB, method.md 13's settings at the file's rate
#include "datasets/audio_file.hpp"
#include "datasets/log_mel.hpp"
#include "datasets/npy.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace torus::datasets;

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "decode" && argc == 5) {
      const Audio a = read_audio(argv[2], std::atoi(argv[3]));
      write_npy(argv[4], a.samples.data(), int64_t(a.samples.size()), 1);
      std::printf("%d %d %d\n", a.sample_rate, a.source_rate, a.source_channels);
      return 0;
    }
    if (command == "logmel" && (argc == 4 || argc == 5)) {
      const Audio a = read_audio(argv[2], 0);
      LogMelConfig c;
      c.sample_rate = a.sample_rate;
      if (argc == 5) c.scale = MelScale::slaney, c.slaney_norm = true;
      const std::vector<float> m = log_mel(c, a.samples);
      write_npy(argv[3], m.data(), c.n_mels, int64_t(m.size()) / c.n_mels);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: %s decode FILE RATE OUT.npy | logmel FILE OUT.npy [slaney]\n", argv[0]);
  return 2;
}
