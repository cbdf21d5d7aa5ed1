// A Matryoshka export (issue 15): the C emits only the first k of the run's K circles. The torusN
// head's last layer fc2 gives D = 2K outputs, pair j (rows 2j, 2j+1) becoming circle j's angle,
// and nothing after it mixes pairs; so keeping fc2's first 2k rows (and biases) gives exactly the
// first k codes, with k / K of fc2's weights and work. The conv net's and the audio CNN's heads
// both end so.
#pragma once

#include "train/export/export_run.hpp"

#include <sstream>
#include <string>
#include <vector>

namespace torus::train::exportq {

// Cuts fc2 (dim rows of `hidden` weights, row-major, and dim biases) to its first `circles`
// circles and sets dim to 2 circles (0: leaves it whole); returns the header's note ("" when
// whole). Throws ExportError unless 1 <= circles <= dim / 2.
inline std::string keep_first_circles(int& dim, std::vector<float>& fc2_w, std::vector<float>& fc2_b, int circles, int hidden) {
  const int K = dim / 2;
  if (circles == 0 || circles == K) return "";
  // Streams, not string +: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string here.
  std::ostringstream text;
  if (circles < 0 || circles > K) {
    text << "--circles " << circles << ": the run's head has " << K << " circles (D = " << dim << "); expected 1 to " << K;
    throw ExportError(text.str());
  }
  dim = 2 * circles;
  fc2_w.resize(size_t(dim) * size_t(hidden));
  fc2_b.resize(size_t(dim));
  text << "Matryoshka prefix: the first " << circles << " of the run's " << K << " circles (fc2 keeps its first " << dim
       << " rows); the codes are the first " << circles << " codes of the whole model's.";
  return text.str();
}

}  // namespace torus::train::exportq
