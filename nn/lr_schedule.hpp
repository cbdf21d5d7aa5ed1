// Learning-rate schedules as pure functions of the epoch (or step) index t = 0, 1, 2 ...:
//   constant     base
//   cosine       floor + (base - floor) (1 + cos(pi t / T)) / 2        (CosineAnnealingLR, eta_min)
//   step         base gamma^floor(t / step_size)                        (StepLR)
//   multistep    base gamma^(number of milestones <= t)                 (MultiStepLR)
// and an optional linear warm-up over the first `warmup` indices, base (t + 1) / warmup, after
// which the schedule runs on t - warmup. Pure functions make resuming trivial: no hidden state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torus::nn {

struct LrSchedule {
  enum class Kind { constant, cosine, step, multistep };
  Kind kind = Kind::constant;
  double base = 0.1;
  double floor = 0.0;       // cosine: eta_min
  int64_t total = 1;        // cosine: T_max
  int64_t step_size = 1;    // step
  double gamma = 0.1;       // step, multistep
  std::vector<int64_t> milestones;  // multistep, increasing
  int64_t warmup = 0;

  double at(int64_t t) const;
  // "constant", "cosine", "step", "multistep"; anything else throws, listing these.
  static Kind parse_kind(const std::string& name);
};

}  // namespace torus::nn
