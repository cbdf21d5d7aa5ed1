// The C99 torus-export writes for the audio CNN: the same four files as the conv net's export
// (codegen.hpp: NAME_model.h, NAME_model.c, NAME_weights.c, NAME_golden.c, every name prefixed),
// here taking int16 PCM of one crop and running the integer log-mel front end (log_mel_int.hpp)
// and the int8 audio CNN (audio_net.hpp) bit for bit as their C++ references do. <stdint.h> and
// <stddef.h> only, no malloc, no floating point.
//   size_t NAME_scratch_bytes(void);
//   int NAME_embed_pcm_r(void *scratch, const int16_t *pcm, uint8_t *codes);  reentrant
//   int NAME_embed_pcm(const int16_t *pcm, uint8_t *codes);                   on a static scratch
//   int NAME_self_test(void);                                                 in NAME_golden.c
#pragma once

#include "train/export/audio_model.hpp"
#include "train/export/codegen.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace torus::train::exportq {

struct AudioGoldenVectors {
  std::vector<std::int16_t> pcm;         // (n, samples)
  std::vector<std::uint8_t> codes;       // (n, D/2) by audio_embed_pcm: what NAME_self_test checks
  std::vector<std::uint8_t> float_codes; // (n, D/2) by the float model, recorded for comparison
  int count = 0;
};

// An upper bound on either entry point's stack, counted as c_kernels_stack_bound counts it.
std::size_t audio_c_stack_bound();

// Throws std::invalid_argument for a prefix is_c_prefix refuses or golden vectors that do not
// match their count.
GeneratedC generate_audio_c(const AudioModel& model, const Provenance& provenance, const AudioGoldenVectors& golden,
                            const std::string& prefix = kDefaultPrefix);

// main(): `driver PCM CODES` reads n crops of NAME_MODEL_INPUT_SAMPLES int16 (native byte order),
// writes n x NAME_MODEL_CODES codes, prints "self_test <rc>" and, with a third argument R, runs
// every crop R times and prints "seconds_per_crop <s>" (clock()).
std::string generate_audio_test_driver(const std::string& prefix = kDefaultPrefix);

}  // namespace torus::train::exportq
