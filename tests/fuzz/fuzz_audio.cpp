// Sound files (libsndfile's WAV, FLAC, OGG Vorbis and MP3 decoders behind our header checks, limits
// and mix-down, then libsoxr to 16 kHz), straight from the bytes. The length limit is lowered so
// the fuzzer spends its time on structure, not on long signals.
#include "datasets/audio_file.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  torus::datasets::AudioLimits limits;
  limits.max_seconds = 2;
  limits.max_channels = 8;
  try {
    torus::datasets::decode_audio("input.audio", std::string(reinterpret_cast<const char*>(data), size), 16000, limits);
  } catch (const torus::datasets::DataError&) {
  }
  return 0;
}
