#include "nn/lr_schedule.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace torus::nn {

double LrSchedule::at(int64_t t) const {
  if (t < 0) throw std::invalid_argument("LrSchedule: negative index " + std::to_string(t));
  if (t < warmup) return base * double(t + 1) / double(warmup);
  t -= warmup;
  switch (kind) {
    case Kind::constant: return base;
    case Kind::cosine: {
      if (total < 1) throw std::invalid_argument("LrSchedule: cosine needs total >= 1");
      // past T_max the closed form keeps following the cosine, as PyTorch's does
      return floor + (base - floor) * (1 + std::cos(std::numbers::pi * double(t) / double(total))) / 2;
    }
    case Kind::step:
      if (step_size < 1) throw std::invalid_argument("LrSchedule: step needs step_size >= 1");
      return base * std::pow(gamma, double(t / step_size));
    case Kind::multistep: {
      int64_t passed = 0;
      for (int64_t m : milestones) passed += m <= t;
      return base * std::pow(gamma, double(passed));
    }
  }
  throw std::logic_error("LrSchedule: unknown kind");
}

LrSchedule::Kind LrSchedule::parse_kind(const std::string& name) {
  if (name == "constant") return Kind::constant;
  if (name == "cosine") return Kind::cosine;
  if (name == "step") return Kind::step;
  if (name == "multistep") return Kind::multistep;
  throw std::invalid_argument("schedule '" + name + "' is not one of: constant, cosine, step, multistep");
}

}  // namespace torus::nn
