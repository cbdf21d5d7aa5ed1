// The synthetic call corpus: real files every decoder reads, the same on every run, and species a
// simple classifier can tell apart (so a network trained on it has something to learn).
#include <catch2/catch.hpp>

#include "datasets/audio_file.hpp"
#include "datasets/log_mel.hpp"
#include "datasets/synthetic_calls.hpp"
#include "nn/io/atomic_file.hpp"

#include <filesystem>
#include <numeric>

using namespace torus::datasets;
namespace fs = std::filesystem;

TEST_CASE("the synthetic call corpus: decodable files, deterministic, separable species", "[datasets][audio]") {
  const fs::path dir = fs::temp_directory_path() / "torus_synthetic_calls";
  fs::remove_all(dir);
  SyntheticCalls corpus;
  corpus.species = 4;
  corpus.clips_per_species = 6;
  corpus.clip_seconds = 1.0;
  const std::vector<std::string> names = write_synthetic_calls(corpus, dir.string());
  REQUIRE(names == std::vector<std::string>{"s00_chirp", "s01_trill", "s02_stack", "s03_clicks"});
  // Formats cycle over the clips; each decodes to the clip's length at its rate.
  CHECK(fs::exists(dir / "s00_chirp" / "clip000.wav"));
  CHECK(fs::exists(dir / "s00_chirp" / "clip001.flac"));
  CHECK(fs::exists(dir / "s00_chirp" / "clip002.ogg"));
  // Every clip is the same on every run; the lossless files hold it to 16-bit precision.
  const std::vector<float> again = corpus.clip(1, 4);
  CHECK(again == corpus.clip(1, 4));
  const Audio flac = read_audio((dir / "s01_trill" / "clip004.flac").string(), 0);
  REQUIRE(flac.samples.size() == again.size());
  float worst = 0;
  for (size_t i = 0; i < again.size(); ++i) worst = std::max(worst, std::fabs(flac.samples[i] - again[i]));
  // Two 16-bit steps: libsndfile writes floats scaled by 32767 and reads PCM back divided by 32768.
  CHECK(worst <= 2.0f / 32768);
  // Species differ: each clip's mean log-mel spectrum is nearest to its own species' centroid
  // (leave one out) far more often than chance (1 in 4).
  LogMelConfig mel;
  std::vector<std::vector<double>> profile;
  std::vector<int> label;
  for (int s = 0; s < corpus.species; ++s)
    for (int k = 0; k < corpus.clips_per_species; ++k) {
      const char* ext[] = {"wav", "flac", "ogg"};
      char file[32];
      std::snprintf(file, sizeof file, "clip%03d.%s", k, ext[k % 3]);
      const Audio a = read_audio((dir / names[size_t(s)] / file).string(), 16000);
      const std::vector<float> m = log_mel(mel, a.samples);
      const int64_t frames = int64_t(m.size()) / mel.n_mels;
      std::vector<double> p(size_t(mel.n_mels));
      for (int b = 0; b < mel.n_mels; ++b) {
        // The loudest frames of each band: where the calls are, not the noise between them.
        std::vector<float> band(m.begin() + b * frames, m.begin() + (b + 1) * frames);
        std::sort(band.begin(), band.end());
        p[size_t(b)] = band[size_t(frames * 9 / 10)];
      }
      profile.push_back(p);
      label.push_back(s);
    }
  int correct = 0;
  for (size_t i = 0; i < profile.size(); ++i) {
    double best = 1e300;
    int guess = -1;
    for (int s = 0; s < corpus.species; ++s) {
      std::vector<double> c(size_t(mel.n_mels), 0.0);
      int n = 0;
      for (size_t j = 0; j < profile.size(); ++j)
        if (j != i && label[j] == s) {
          for (size_t b = 0; b < c.size(); ++b) c[b] += profile[j][b];
          ++n;
        }
      double d = 0;
      for (size_t b = 0; b < c.size(); ++b) d += (c[b] / n - profile[i][b]) * (c[b] / n - profile[i][b]);
      if (d < best) best = d, guess = s;
    }
    correct += guess == label[i];
  }
  INFO(correct << " of " << profile.size() << " clips nearest to their own species");
  CHECK(correct >= int(profile.size()) * 3 / 4);
  fs::remove_all(dir);
}
