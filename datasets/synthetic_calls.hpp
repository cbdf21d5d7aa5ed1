// A synthetic bioacoustic corpus for tests and the sound demo, since no bird-sound archive is
// installable here: "species" of animal calls in four families (frequency-modulated chirps,
// trills of short repeated notes, harmonic stacks, click trains), each species fixed by its
// parameters, each individual varying them a little, each clip a few calls at random times over
// background noise at a random signal-to-noise ratio. Everything derives from (seed, species,
// clip), so a corpus is the same on every machine. Written as real WAV, FLAC and Ogg Vorbis files
// through libsndfile, so the corpus exercises the decoders a real archive would.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torus::datasets {

enum class CallFamily { chirp, trill, harmonic_stack, click_train };

struct SpeciesCall {
  CallFamily family;
  double f0, f1;        // Hz: start and end frequency (chirp), note frequency range (trill), fundamental (stack)
  double duration;      // seconds of one call
  double rate;          // notes (trill) or clicks (click train) per second
  int harmonics;        // harmonic stack: partials above the fundamental
};

struct SyntheticCalls {
  int species = 10;
  int clips_per_species = 20;
  double clip_seconds = 2.0;
  int sample_rate = 16000;
  int individuals = 4;          // per species; a clip is sung by one of them
  double snr_db_min = 0, snr_db_max = 20;
  uint64_t seed = 0;

  // The call of species s (the same for every clip of s).
  SpeciesCall species_call(int s) const;
  // Mono samples in [-1, 1] of clip `clip` of species `s`.
  std::vector<float> clip(int s, int clip) const;
};

// Writes out_dir/<species name>/<clip>.{wav,flac,ogg} (the format cycling over `formats`, each
// written atomically) and returns the species names ("s00_chirp", ...). Throws DataError naming the
// file on any failure.
std::vector<std::string> write_synthetic_calls(const SyntheticCalls& corpus, const std::string& out_dir,
                                               const std::vector<std::string>& formats = {"wav", "flac", "ogg"});

// Encodes mono samples as a WAV (16-bit PCM), FLAC (16-bit) or Ogg Vorbis file in memory.
std::string encode_audio(const std::vector<float>& samples, int sample_rate, const std::string& format);

}  // namespace torus::datasets
