// torus-synthetic-calls: writes the synthetic bioacoustic corpus (datasets/synthetic_calls.hpp) as
// a folder of class subfolders of WAV, FLAC and Ogg Vorbis clips, the layout of an audio folder.
//   torus-synthetic-calls --out DIR [--species 10] [--clips 20] [--seconds 2] [--rate 16000] [--seed 0]
#include "datasets/synthetic_calls.hpp"
#include "train/command_line.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <sstream>

int main(int argc, char** argv) {
  CLI::App app{"Writes a synthetic corpus of animal calls (chirps, trills, harmonic stacks, click trains) as sound files."};
  torus::datasets::SyntheticCalls corpus;
  std::string out, formats_text = "wav,flac,ogg";
  app.add_option("--out", out, "output folder (one subfolder per species)")->required();
  app.add_option("--species", corpus.species, "species (classes)")->check(CLI::Range(2, 1000))->capture_default_str();
  app.add_option("--clips", corpus.clips_per_species, "clips per species")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--seconds", corpus.clip_seconds, "seconds per clip")->check(CLI::Range(0.5, 60.0))->capture_default_str();
  app.add_option("--rate", corpus.sample_rate, "sample rate in Hz")->check(CLI::Range(8000, 96000))->capture_default_str();
  app.add_option("--seed", corpus.seed, "seed of every species, individual and clip")->capture_default_str();
  app.add_option("--formats", formats_text, "file formats, cycled over the clips: wav, flac, ogg")->capture_default_str();
  if (const int status = torus::train::parse_command_line(app, argc, argv); status >= 0) return status;
  std::vector<std::string> formats;
  std::stringstream ss(formats_text);
  for (std::string f; std::getline(ss, f, ',');) {
    if (f != "wav" && f != "flac" && f != "ogg") {
      std::fprintf(stderr, "torus-synthetic-calls: --formats: unknown format \"%s\"; valid: wav, flac, ogg\n", f.c_str());
      return 2;
    }
    formats.push_back(f);
  }
  try {
    const auto names = torus::datasets::write_synthetic_calls(corpus, out, formats);
    std::printf("%s: %zu species x %d clips\n", out.c_str(), names.size(), corpus.clips_per_species);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-synthetic-calls: %s\n", e.what());
    return 1;
  }
}
