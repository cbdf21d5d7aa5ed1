// The C99 text torus-export writes for a microcontroller, every name carrying the export's prefix
// NAME (default "torus") so that two exports link into one firmware:
//   NAME_model.h    the API, shapes, input, resource numbers, provenance; declares the constants
//   NAME_model.c    the integer forward pass (c_kernels.hpp) and its two entry points
//   NAME_weights.c  the int8 network of int8_net.hpp as const arrays, placeable in a flash section
//   NAME_golden.c   golden vectors and NAME_self_test(); a product build may leave it out
// plus the small test driver torus-export --check compiles next to them. The C depends on
// <stdint.h> and <stddef.h> only, allocates nothing and has no floating point: every operation
// is the one of quantize.cpp / int8_net.cpp, token for token.
#pragma once

#include "train/export/int8_net.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace torus::train::exportq {

inline constexpr int kFormatVersion = 2;  // 2: prefixed names, reentrant entry point, four files
inline constexpr const char* kDefaultPrefix = "torus";

// A prefix the generated names can carry: a letter, then letters, digits or '_' (a leading '_'
// would make names reserved to the C implementation).
bool is_c_prefix(const std::string& prefix);

struct Provenance {
  std::string config_toml;  // the run's config.toml, verbatim
  std::string checkpoint;   // the checkpoint file's path
  std::int64_t seed = 0, epoch = 0, step = 0;
  std::string calibration;  // how activation ranges were chosen, for the header's comment
  InputNormalization normalization;  // folded into conv1; stated in the header
  std::string prefix_note;  // a Matryoshka prefix export: which circles it keeps ("" when all)
};

struct GoldenVectors {
  std::vector<std::uint8_t> pixels;  // (n, 784)
  std::vector<std::uint8_t> codes;   // (n, D/2), from int8_forward
  int count = 0;
};

// What the generated C occupies, as stated in its header.
struct ResourceBudget {
  std::size_t flash_bytes = 0;   // the const arrays of NAME_weights.c (code not counted)
  std::size_t scratch_bytes = 0; // RAM: sizeof(NAME_scratch), caller-owned or static
  std::size_t stack_bytes = 0;   // upper bound of either entry point (c_kernels_stack_bound)
  std::size_t golden_bytes = 0;  // the const arrays of NAME_golden.c
};

struct GeneratedC {
  std::string prefix;
  std::string header;   // NAME_model.h
  std::string source;   // NAME_model.c
  std::string weights;  // NAME_weights.c
  std::string golden;   // NAME_golden.c
  ResourceBudget resources;
  // (file name, text) of the four files, header first.
  std::vector<std::pair<std::string, std::string>> files() const;
};

// Throws std::invalid_argument for a prefix is_c_prefix refuses or golden vectors that do not
// match their count.
GeneratedC generate_c(const Int8ConvNet& net, const Provenance& provenance, const GoldenVectors& golden,
                      const std::string& prefix = kDefaultPrefix);

// main(): `driver IMAGES CODES` reads n x 784 uint8 pixels, writes n x D/2 codes, and prints
// "self_test <rc>"; exits non-zero when the self-test fails or a file cannot be read or written.
std::string generate_test_driver(const std::string& prefix = kDefaultPrefix);

}  // namespace torus::train::exportq
