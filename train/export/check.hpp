// torus-export --check: compiles the generated C with the system C compiler (strict C99, warnings
// as errors) and a generated driver, runs it on a file of images, and reads its codes back; plus
// the agreement measures between code sets (identical, within one step on the circle) and the
// precision@1 of uint8 codes by the cosine look-up similarity.
#pragma once

#include "geometry/row_matrix.hpp"
#include "train/export/codegen.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace torus::train::exportq {

// The C compiler: $CC when set, else cc; "" when neither runs.
std::string find_c_compiler();

struct CRunResult {
  bool compiled = false;
  std::string compile_log;     // the compiler's output when it failed
  bool general_regs_only = false;  // NAME_model.c and NAME_weights.c also compile with -mgeneral-regs-only (no FP registers)
  bool general_regs_tried = false; // the flag is supported by this compiler
  bool no_float_tokens = false;    // neither "float" nor "double" appears in the generated files
  int self_test = -1;              // NAME_self_test()'s return (0 = pass)
  std::vector<std::uint8_t> codes; // (n, K) read back
  double seconds_per_input = 0;    // the audio driver's timing (repeats > 0), else 0
};

// Builds in `work_dir` (a temporary folder the caller owns) from the four files of the export
// `prefix` in `model_dir`, runs on `pixels` (n x 784), expecting n x K codes back.
CRunResult compile_and_run_c(const std::string& compiler, const std::string& model_dir, const std::string& work_dir,
                             const std::vector<std::uint8_t>& pixels, int K, const std::string& prefix = kDefaultPrefix);

// The same for an audio export (audio_codegen.hpp): `pcm` holds n crops of `samples` int16; with
// repeats > 0 the driver also times repeats runs of every crop (-O2), into seconds_per_input.
CRunResult compile_and_run_audio_c(const std::string& compiler, const std::string& model_dir, const std::string& work_dir,
                                   const std::vector<std::int16_t>& pcm, int samples, int K,
                                   const std::string& prefix = kDefaultPrefix, int repeats = 0);

// Fraction of equal codes, and of codes within `steps` on the circle (|int8(a - b)| <= steps).
double identical_fraction(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b);
double within_steps_fraction(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b, int steps);

// precision@1 of query codes against reference codes, similarity sum_k LUT[uint8(q_k - r_k)] with
// LUT[j] = round(A cos(2 pi j / 256)): A = 127 is the int8 table a device would hold, A = 32767 the
// int16 one, nearer the exact cosine.
double code_precision_at_1(const geometry::CodeMatrix& queries, const std::vector<int>& query_labels,
                           const geometry::CodeMatrix& references, const std::vector<int>& reference_labels, int threads,
                           int amplitude = 127);

}  // namespace torus::train::exportq
