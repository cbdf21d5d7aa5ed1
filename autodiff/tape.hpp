// Reverse mode on a tape of whole tensors.
// A Tape owns every node of one step; a Var is a {tape, id} handle. Creation order is already a
// topological order, so backward() walks ids downwards: no recursion, no sort, one fixed order.
// Backward functions are plain function pointers (captureless lambdas): what they need lives in
// the node (inputs by id, saved tensors, scalar attributes), so no ownership cycle can form.
// clear() keeps every node and buffer for the next step, which is how steady-state steps stop
// allocating. Broadcast gradients are summed back to an input's shape in one place: Backward.
#pragma once

#include "autodiff/tensor.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace torus {

template <typename T>
class Tape;
template <typename T>
class Backward;

// A trainable tensor with its gradient; modules hold these as named members.
template <typename T>
struct Parameter {
  Tensor<T> value;
  Tensor<T> grad;  // same shape as value once a backward pass has reached it
  void zero_grad() { grad.set_zero(value.shape()); }
};

// The name an op records on the tape. Each primitive defines one `static const OpName` next to
// its forward and backward, naming the library it belongs to; construction registers it, so each
// library's tests can list every primitive it has and fail when one has no gradient check.
class OpName {
 public:
  // Leaves pass library = nullptr: they are not ops and need no gradient check.
  explicit OpName(const char* name, const char* library = "autodiff");
  const char* c_str() const { return name_; }
  // The names of the primitives of `library` linked into this program.
  static std::vector<std::string> registry(const std::string& library);

 private:
  const char* name_;
};

template <typename T>
using BackwardFn = void (*)(Backward<T>&);

template <typename T>
struct Node {
  const char* op = "";
  Tensor<T> value;                   // unused when `param` is set
  Tensor<T> grad;                    // valid when has_grad
  bool has_grad = false;
  bool requires_grad = false;
  std::vector<int> inputs;           // ids of the parents, in argument order
  BackwardFn<T> backward = nullptr;  // null for leaves
  std::array<double, 4> attr{};      // scalar parameters of the op (exponent, slope, bounds ...)
  std::vector<int64_t> ints;         // integer parameters (axes, permutation, indices ...)
  Tensor<T> saved;                   // one tensor kept for backward (mask, argmax as values ...)
  Parameter<T>* param = nullptr;     // leaf that reads and accumulates into a Parameter
  double forward_seconds = 0;        // with Tape::set_profiling(true) only
  double backward_seconds = 0;
};

template <typename T>
class Var {
 public:
  Var() = default;
  Var(Tape<T>* tape, int id) : tape_(tape), id_(id) {}
  Tape<T>& tape() const { return *tape_; }
  int id() const { return id_; }
  bool valid() const { return tape_ != nullptr; }
  const Tensor<T>& value() const;
  const Shape& shape() const { return value().shape(); }
  // The accumulated gradient after backward(); throws if backward never reached this node.
  const Tensor<T>& grad() const;

 private:
  Tape<T>* tape_ = nullptr;
  int id_ = -1;
};

template <typename T>
class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;  // Vars point at their tape
  Tape& operator=(const Tape&) = delete;

  // Leaves. A constant never receives a gradient; a variable does (read it with Var::grad);
  // a parameter leaf reads p.value in place and accumulates into p.grad.
  Var<T> constant(const Tensor<T>& value);
  Var<T> constant(Tensor<T>&& value);
  // A constant whose value the caller fills in place through the returned tensor (shape s, every
  // element `fill`), in the node's kept buffer: per-step constants such as masks then allocate
  // nothing. The constant is tape.last() until the next node is recorded.
  Tensor<T>& constant_buffer(const Shape& s, T fill);
  Var<T> variable(const Tensor<T>& value);
  Var<T> param(Parameter<T>& p);

  // Seeds d(loss) = 1 (loss must hold one element) and accumulates gradients into every node
  // that requires one. Calling it twice accumulates twice: gradients always add.
  // After a backward pass the tape refuses new nodes that require a gradient until clear() (next
  // step) or zero_grad() (same graph, fresh gradients): a new graph recorded on top of an old one
  // would be walked together with it, and the old nodes' gradients would flow into the parameters
  // a second time. Constants and NoGradGuard evaluation stay allowed: they carry no gradient.
  void backward(const Var<T>& loss);
  // Same walk with an explicit upstream gradient of out's shape (Jacobian rows, tests).
  void backward(const Var<T>& out, const Tensor<T>& seed);
  // Forgets every node's gradient but keeps the nodes (for repeated backward on one graph).
  void zero_grad();
  // Forgets all nodes, keeping their buffers for reuse. Call it before every step.
  void clear();

  int size() const { return size_; }
  Node<T>& node(int id) { return *nodes_[id]; }
  const Node<T>& node(int id) const { return *nodes_[id]; }
  const Tensor<T>& value(int id) const;
  bool grad_enabled() const { return grad_enabled_; }
  void set_grad_enabled(bool on) { grad_enabled_ = on; }
  // Times every node: forward as the wall time from its record() to the next node's (so the op's
  // own computation, which runs right after record()), backward around its backward function.
  void set_profiling(bool on) { profiling_ = on; }

  // Appends a node for an op with the given inputs; the op then fills node.value. The node
  // requires a gradient when grad mode is on and any input does; only then is `backward` kept.
  Node<T>& record(const OpName& op, std::initializer_list<Var<T>> inputs, BackwardFn<T> backward) {
    return record_range(op, inputs.begin(), inputs.end(), backward);
  }
  Node<T>& record(const OpName& op, const std::vector<Var<T>>& inputs, BackwardFn<T> backward) {
    return record_range(op, inputs.data(), inputs.data() + inputs.size(), backward);
  }
  Var<T> last() { return Var<T>(this, size_ - 1); }

 private:
  friend class Backward<T>;
  void refuse_after_backward(const char* op, bool requires_grad) const;
  Node<T>& next_node(const char* op);
  Node<T>& record_range(const OpName& op, const Var<T>* begin, const Var<T>* end, BackwardFn<T> backward);
  void walk(int from);
  Tensor<T>& grad_buffer(int id);  // the node's gradient, zeroed on first use
  // The node's gradient for a caller that writes every element: sized but not zeroed on first
  // use (assign = true), otherwise the accumulating buffer (assign = false).
  Tensor<T>& grad_buffer_whole(int id, bool& assign);

  std::vector<std::unique_ptr<Node<T>>> nodes_;  // slots [0, size_) are live
  int size_ = 0;
  bool grad_enabled_ = true;
  bool backward_ran_ = false;  // since the last clear() or zero_grad(): nodes that need a gradient are refused
  std::array<Tensor<T>, 3> broadcast_scratch_;   // per-input buffers, reused by every node
  std::array<bool, 3> broadcast_used_{};
  bool profiling_ = false;
  std::chrono::steady_clock::time_point last_record_{};
  void close_forward_timing();
};

// Evaluation without recording gradients: nodes made in its scope never require one.
template <typename T>
class NoGradGuard {
 public:
  explicit NoGradGuard(Tape<T>& tape) : tape_(tape), was_(tape.grad_enabled()) { tape.set_grad_enabled(false); }
  ~NoGradGuard() { tape_.set_grad_enabled(was_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  Tape<T>& tape_;
  bool was_;
};

// What a backward function sees: the upstream gradient, the node's output and inputs, and where
// to add each input's gradient.
template <typename T>
class Backward {
 public:
  Backward(Tape<T>& tape, Node<T>& node) : tape_(tape), node_(node) {}

  const Tensor<T>& dout() const { return node_.grad; }
  const Tensor<T>& out() const { return node_.value; }
  const Tensor<T>& in(int i) const { return tape_.value(node_.inputs[i]); }
  const Node<T>& node() const { return node_; }
  // The node's own kept tensor: what the forward saved, or scratch space for the backward.
  Tensor<T>& saved() { return node_.saved; }
  int num_inputs() const { return static_cast<int>(node_.inputs.size()); }
  // Whether input i wants a gradient; expensive ops skip the work when it does not.
  bool needs(int i) const { return tape_.node(node_.inputs[i]).requires_grad; }
  // Input i's gradient in its own shape, to be accumulated with +=.
  Tensor<T>& dx(int i) { return tape_.grad_buffer(node_.inputs[i]); }
  // Input i's gradient for an op that writes every element of it. When nothing has reached that
  // input yet (and it is not a parameter, whose gradient accumulates across steps) the buffer is
  // not zeroed and assign is set: write with =. Otherwise assign is cleared: add with +=. On the
  // large activations of a conv net this saves a full pass of zero-filling per input.
  Tensor<T>& dx_whole(int i, bool& assign) { return tape_.grad_buffer_whole(node_.inputs[i], assign); }
  // A zeroed buffer in the output's shape for input i; after the backward function returns the
  // tape sums it over the broadcast axes into dx(i). Elementwise ops with broadcasting use this.
  Tensor<T>& dx_broadcast(int i);

 private:
  Tape<T>& tape_;
  Node<T>& node_;
};

// Sums `g` over the axes along which `acc`'s shape was broadcast to g's shape, adding into acc.
template <typename T>
void sum_to_shape(const Tensor<T>& g, Tensor<T>& acc);

extern template class Tape<float>;
extern template class Tape<double>;
extern template class Backward<float>;
extern template class Backward<double>;
extern template class Var<float>;
extern template class Var<double>;

}  // namespace torus
