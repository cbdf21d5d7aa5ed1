// Modules own their parameters as named members and list them by name, so optimisers, checkpoints
// and tests address a weight as "conv1.weight", never by position. Buffers (batch-norm running
// statistics) are listed the same way. Training / evaluation mode is a flag every module carries;
// containers pass it on to their children.
#pragma once

#include "autodiff/tape.hpp"

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace torus::dist {
class Communicator;
}

namespace torus::nn {

template <typename T>
using NamedParameters = std::vector<std::pair<std::string, Parameter<T>*>>;
template <typename T>
using NamedBuffers = std::vector<std::pair<std::string, Tensor<T>*>>;

// Appends `inner`'s entries to `out` with "prefix." in front of each name.
template <typename Named>
void append_named(Named& out, const std::string& prefix, const Named& inner) {
  for (const auto& [name, p] : inner) out.emplace_back(prefix + "." + name, p);
}

// PyTorch's default initialisation of a layer with fan_in inputs per output: weight and bias
// uniform in +-1/sqrt(fan_in) (Kaiming-uniform with a = sqrt 5 reduces to exactly that bound).
// An empty bias shape means no bias.
template <typename T>
void init_fan_in_uniform(Parameter<T>& weight, const Shape& weight_shape, Parameter<T>* bias, int64_t fan_in,
                         std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0 / std::sqrt(double(fan_in)), 1.0 / std::sqrt(double(fan_in)));
  weight.value = Tensor<T>(weight_shape);
  for (int64_t i = 0; i < weight.value.numel(); ++i) weight.value[i] = T(u(rng));
  if (!bias) return;
  bias->value = Tensor<T>(Shape{weight_shape[0]});
  for (int64_t i = 0; i < bias->value.numel(); ++i) bias->value[i] = T(u(rng));
}

template <typename T>
class Module {
 public:
  virtual ~Module() = default;
  virtual Var<T> forward(const Var<T>& x) = 0;
  Var<T> operator()(const Var<T>& x) { return forward(x); }
  virtual NamedParameters<T> parameters() { return {}; }
  virtual NamedBuffers<T> buffers() { return {}; }
  virtual void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }
  // Batch norm's training statistics over every rank of comm (sync batch norm), or each rank's
  // own (nullptr, the default). Containers pass it on to their children, as set_training.
  virtual void set_batch_norm_sync(const dist::Communicator*) {}

 protected:
  bool training_ = true;
};

// Children run in order; their names are their positions ("0", "1" ...) unless given.
template <typename T>
class Sequential : public Module<T> {
 public:
  Sequential& add(std::unique_ptr<Module<T>> m, std::string name = "") {
    if (name.empty()) name = std::to_string(children_.size());
    children_.emplace_back(std::move(name), std::move(m));
    return *this;
  }
  template <typename M, typename... Args>
  M& emplace(Args&&... args) {
    auto m = std::make_unique<M>(std::forward<Args>(args)...);
    M& ref = *m;
    add(std::move(m));
    return ref;
  }
  Var<T> forward(const Var<T>& x) override {
    Var<T> h = x;
    for (auto& [name, m] : children_) h = m->forward(h);
    return h;
  }
  NamedParameters<T> parameters() override {
    NamedParameters<T> out;
    for (auto& [name, m] : children_) append_named(out, name, m->parameters());
    return out;
  }
  NamedBuffers<T> buffers() override {
    NamedBuffers<T> out;
    for (auto& [name, m] : children_) append_named(out, name, m->buffers());
    return out;
  }
  void set_training(bool on) override {
    this->training_ = on;
    for (auto& [name, m] : children_) m->set_training(on);
  }
  void set_batch_norm_sync(const dist::Communicator* comm) override {
    for (auto& [name, m] : children_) m->set_batch_norm_sync(comm);
  }
  size_t size() const { return children_.size(); }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Module<T>>>> children_;
};

}  // namespace torus::nn
