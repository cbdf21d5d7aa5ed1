// What every optimiser shares: the named parameters it updates, a learning rate that schedules
// set, a step count, and its state as named tensors (so checkpoints can save and restore it).
#pragma once

#include "nn/module.hpp"

#include <map>
#include <string>

namespace torus::nn {

template <typename T>
class Optimizer {
 public:
  explicit Optimizer(NamedParameters<T> params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update from the parameters' current gradients; parameters never reached by a backward
  // pass (gradient shape differs from the value's) are left alone.
  void step() {
    ++steps_;
    update();
  }
  void zero_grad() {
    for (auto& [name, p] : params_) p->zero_grad();
  }
  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;
  int64_t steps() const { return steps_; }
  // Named state tensors ("<param>.momentum", "<param>.exp_avg" ...) and the step count.
  std::map<std::string, Tensor<T>>& state() { return state_; }
  void set_steps(int64_t steps) { steps_ = steps; }
  const NamedParameters<T>& parameters() const { return params_; }

 protected:
  virtual void update() = 0;
  // The state tensor "<name><suffix>" of a parameter, created as zeros of its shape on first use.
  // The key is built in a kept buffer, so steps after the first allocate nothing.
  Tensor<T>& slot(const std::string& name, const char* suffix, const Parameter<T>& p, bool* created = nullptr) {
    key_.assign(name).append(suffix);
    auto it = state_.find(key_);
    const bool fresh = it == state_.end();
    if (fresh) it = state_.try_emplace(key_, p.value.shape()).first;
    if (created) *created = fresh;
    return it->second;
  }
  static bool reached(const Parameter<T>& p) { return p.grad.shape() == p.value.shape(); }

  NamedParameters<T> params_;
  std::map<std::string, Tensor<T>> state_;
  int64_t steps_ = 0;

 private:
  std::string key_;
};

}  // namespace torus::nn
