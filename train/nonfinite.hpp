// Finding where a NaN or infinity came from (torus-train --debug): the tape already holds every
// value and gradient of the step in creation order, so the culprit is the first node whose value is
// not finite or, when every value is, the first node backward reached with a non-finite gradient.
#pragma once

#include "autodiff/tape.hpp"

#include <string>

namespace torus::train {

bool all_finite(const Tensor<float>& t);

// A sentence naming the op, its node id and shape; or saying every value and gradient is finite.
std::string first_nonfinite_op(const Tape<float>& tape);

}  // namespace torus::train
