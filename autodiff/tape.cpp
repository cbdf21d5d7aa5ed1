// The tape: recording nodes, walking them backwards by index, and accumulating gradients.
#include "autodiff/tape.hpp"

#include "autodiff/broadcast.hpp"

#include <algorithm>

namespace torus {

namespace {
std::vector<std::pair<std::string, std::string>>& all_primitives() {  // (library, name)
  static std::vector<std::pair<std::string, std::string>> ops;
  return ops;
}
}  // namespace

OpName::OpName(const char* name, const char* library) : name_(name) {
  if (!library) return;
  auto& ops = all_primitives();
  const std::pair<std::string, std::string> entry(library, name);
  if (std::find(ops.begin(), ops.end(), entry) == ops.end()) ops.push_back(entry);
}

std::vector<std::string> OpName::registry(const std::string& library) {
  std::vector<std::string> names;
  for (const auto& [lib, name] : all_primitives())
    if (lib == library) names.push_back(name);
  return names;
}

namespace {
const OpName kLeafConstant("constant", nullptr);
const OpName kLeafVariable("variable", nullptr);
const OpName kLeafParam("param", nullptr);
}  // namespace

template <typename T>
const Tensor<T>& Var<T>::value() const {
  return tape_->value(id_);
}

template <typename T>
const Tensor<T>& Var<T>::grad() const {
  const Node<T>& n = tape_->node(id_);
  if (n.param) return n.param->grad;
  if (!n.has_grad) {
    throw std::logic_error(std::string("grad: node ") + std::to_string(id_) + " (" + n.op +
                           ") received no gradient; was backward() called on something that depends on it?");
  }
  return n.grad;
}

template <typename T>
const Tensor<T>& Tape<T>::value(int id) const {
  const Node<T>& n = *nodes_[id];
  return n.param ? n.param->value : n.value;
}

template <typename T>
void Tape<T>::close_forward_timing() {
  if (!profiling_ || size_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  nodes_[size_ - 1]->forward_seconds = std::chrono::duration<double>(now - last_record_).count();
  last_record_ = now;
}

template <typename T>
void Tape<T>::refuse_after_backward(const char* op, bool requires_grad) const {
  // Nodes without a gradient (constants, evaluation under NoGradGuard) cannot carry a stale one.
  if (backward_ran_ && requires_grad) {
    throw std::logic_error(std::string("Tape: cannot record \"") + op +
                           "\" after backward() on the same tape: the old graph's gradients would flow again into "
                           "the new one. Call tape.clear() before the next step (or zero_grad() to keep the graph).");
  }
}

template <typename T>
Node<T>& Tape<T>::next_node() {
  close_forward_timing();
  if (profiling_) last_record_ = std::chrono::steady_clock::now();
  if (size_ == static_cast<int>(nodes_.size())) nodes_.push_back(std::make_unique<Node<T>>());
  Node<T>& n = *nodes_[size_++];
  n.has_grad = false;
  n.requires_grad = false;
  n.inputs.clear();
  n.backward = nullptr;
  n.state_type_ = nullptr;
  n.index_list.clear();
  n.param = nullptr;
  n.forward_seconds = n.backward_seconds = 0;
  return n;
}

template <typename T>
Var<T> Tape<T>::constant(const Tensor<T>& value) {
  Node<T>& n = next_node();
  n.op = kLeafConstant.c_str();
  n.value = value;  // copy-assign reuses the node's buffer when it is large enough
  return last();
}

template <typename T>
Var<T> Tape<T>::constant(Tensor<T>&& value) {
  Node<T>& n = next_node();
  n.op = kLeafConstant.c_str();
  n.value = std::move(value);
  return last();
}

template <typename T>
typename Tape<T>::ConstantBuffer Tape<T>::constant_buffer(const Shape& s, T fill) {
  Node<T>& n = next_node();
  n.op = kLeafConstant.c_str();
  n.value.resize(s);
  n.value.fill(fill);
  return {last(), n.value};
}

template <typename T>
Var<T> Tape<T>::variable(const Tensor<T>& value) {
  refuse_after_backward(kLeafVariable.c_str(), grad_enabled_);
  Node<T>& n = next_node();
  n.op = kLeafVariable.c_str();
  n.value = value;
  n.requires_grad = grad_enabled_;
  return last();
}

template <typename T>
Var<T> Tape<T>::param(Parameter<T>& p) {
  refuse_after_backward(kLeafParam.c_str(), grad_enabled_);
  Node<T>& n = next_node();
  n.op = kLeafParam.c_str();
  n.param = &p;
  n.requires_grad = grad_enabled_;
  return last();
}

template <typename T>
Recording<T> Tape<T>::record_range(const OpName& op, const Var<T>* begin, const Var<T>* end) {
  bool any = false;
  for (const Var<T>* v = begin; v != end; ++v) {
    if (&v->tape() != this) throw std::logic_error(std::string(op.c_str()) + ": input belongs to another tape");
    any = any || nodes_[v->id()]->requires_grad;
  }
  refuse_after_backward(op.c_str(), grad_enabled_ && any);
  Node<T>& n = next_node();
  n.op = op.c_str();
  for (const Var<T>* v = begin; v != end; ++v) n.inputs.push_back(v->id());
  n.requires_grad = grad_enabled_ && any;
  return Recording<T>(*this, n, size_ - 1);
}

template <typename T>
Var<T> Recording<T>::backward(BackwardFn<T> fn) {
  node_.backward = node_.requires_grad ? fn : nullptr;
  return Var<T>(&tape_, id_);
}

template <typename T>
Tensor<T>& Tape<T>::grad_buffer(int id) {
  Node<T>& n = *nodes_[id];
  if (n.param) {
    if (n.param->grad.shape() != n.param->value.shape()) n.param->zero_grad();
    return n.param->grad;
  }
  if (!n.has_grad) {
    n.grad.set_zero(n.value.shape());
    n.has_grad = true;
  }
  return n.grad;
}

template <typename T>
Tensor<T>& Tape<T>::grad_buffer_whole(int id, bool& assign) {
  Node<T>& n = *nodes_[id];
  assign = !n.param && !n.has_grad;
  if (assign) {
    n.grad.resize(n.value.shape());
    n.has_grad = true;
    return n.grad;
  }
  return grad_buffer(id);
}

template <typename T>
Tensor<T>& Backward<T>::dx_broadcast(int i) {
  if (i >= static_cast<int>(tape_.broadcast_scratch_.size())) {
    throw std::logic_error(std::string(node_.op) + ": dx_broadcast supports at most 3 inputs");
  }
  tape_.broadcast_used_[i] = true;
  Tensor<T>& s = tape_.broadcast_scratch_[i];
  s.set_zero(node_.value.shape());
  return s;
}

template <typename T>
void Tape<T>::walk(int from) {
  for (int id = from; id >= 0; --id) {
    Node<T>& n = *nodes_[id];
    if (!n.has_grad) continue;
    if (!n.backward) {
      if (n.requires_grad && !n.inputs.empty())  // an op left without Recording::backward
        throw std::logic_error(std::string("backward: op \"") + n.op + "\" (node " + std::to_string(id) + ") has no backward function");
      continue;
    }
    broadcast_used_.fill(false);
    const auto t0 = profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    Backward<T> ctx(*this, n);
    n.backward(ctx);
    for (int i = 0; i < static_cast<int>(broadcast_used_.size()); ++i) {
      if (broadcast_used_[i]) sum_to_shape(broadcast_scratch_[i], grad_buffer(n.inputs[i]));
    }
    if (profiling_) n.backward_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
}

template <typename T>
void Tape<T>::backward(const Var<T>& loss) {
  if (&loss.tape() != this) throw std::logic_error("backward: the output belongs to another tape");
  if (loss.value().numel() != 1) {
    throw ShapeError("backward: the loss must hold one element, got shape " + loss.shape().str() +
                     " (pass an explicit seed for other outputs)");
  }
  close_forward_timing();
  backward_ran_ = true;
  grad_buffer(loss.id())[0] += T(1);  // the seed d(loss) = 1, without a seed tensor to allocate
  walk(loss.id());
}

template <typename T>
void Tape<T>::backward(const Var<T>& out, const Tensor<T>& seed) {
  if (&out.tape() != this) throw std::logic_error("backward: the output belongs to another tape");
  if (seed.shape() != out.shape()) {
    throw ShapeError("backward: seed of shape " + seed.shape().str() + " for output of shape " + out.shape().str());
  }
  close_forward_timing();
  backward_ran_ = true;
  grad_buffer(out.id()).array() += seed.array();
  walk(out.id());
}

template <typename T>
void Tape<T>::zero_grad() {
  for (int id = 0; id < size_; ++id) nodes_[id]->has_grad = false;
  backward_ran_ = false;
}

template <typename T>
void Tape<T>::clear() {
  size_ = 0;
  backward_ran_ = false;
}

template class Var<float>;
template class Var<double>;
template class Recording<float>;
template class Recording<double>;
template class Tape<float>;
template class Tape<double>;
template class Backward<float>;
template class Backward<double>;

}  // namespace torus
