#include "train/nonfinite.hpp"

#include <cmath>

namespace torus::train {

bool all_finite(const Tensor<float>& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i])) return false;
  return true;
}

std::string first_nonfinite_op(const Tape<float>& tape) {
  for (int id = 0; id < tape.size(); ++id)
    if (!all_finite(tape.value(id)))
      return std::string("forward: op \"") + tape.node(id).op + "\" (node " + std::to_string(id) + ", shape " +
             tape.value(id).shape().str() + ") is the first with a non-finite value";
  for (int id = tape.size() - 1; id >= 0; --id) {
    const Node<float>& n = tape.node(id);
    if (n.has_grad && !all_finite(n.grad))
      return std::string("backward: the gradient of op \"") + n.op + "\" (node " + std::to_string(id) +
             ") is the first to turn non-finite";
  }
  return "every value and gradient on the tape is finite (the non-finite number arose outside it)";
}

}  // namespace torus::train
