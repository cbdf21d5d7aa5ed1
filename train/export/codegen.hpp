// The C99 text torus-export writes for a microcontroller: torus_model.h (shapes, format version,
// provenance, the API) and torus_model.c (the int8 network of int8_net.hpp as const arrays,
// its integer forward pass, the integer atan2, golden vectors and a self-test), plus the small
// test driver torus-export --check compiles next to them. The C depends on <stdint.h> and
// <stddef.h> only, allocates nothing (static scratch buffers of fixed size) and has no floating
// point: every operation is the one of quantize.cpp / int8_net.cpp, token for token.
#pragma once

#include "train/export/int8_net.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::train::exportq {

inline constexpr int kFormatVersion = 1;

struct Provenance {
  std::string config_toml;  // the run's config.toml, verbatim
  std::string checkpoint;   // the checkpoint file's path
  std::int64_t seed = 0, epoch = 0, step = 0;
  std::string calibration;  // how activation ranges were chosen, for the header's comment
};

struct GoldenVectors {
  std::vector<std::uint8_t> pixels;  // (n, 784)
  std::vector<std::uint8_t> codes;   // (n, D/2), from int8_forward
  int count = 0;
};

struct GeneratedC {
  std::string header;  // torus_model.h
  std::string source;  // torus_model.c
};

GeneratedC generate_c(const Int8ConvNet& net, const Provenance& provenance, const GoldenVectors& golden);

// main(): `driver IMAGES CODES` reads n x 784 uint8 pixels, writes n x D/2 codes, and prints
// "self_test <rc>"; exits non-zero when the self-test fails or a file cannot be read or written.
std::string generate_test_driver();

}  // namespace torus::train::exportq
