// Reverse mode on a tape of whole tensors.
// A Tape owns every node of one step; a Var is a {tape, id} handle. Creation order is already a
// topological order, so backward() walks ids downwards: no recursion, no sort, one fixed order.
// An op reads top to bottom: check shapes, record the node, compute its value, then attach the
// gradient with Recording::backward, the only way an op gets its Var (so none can forget it).
// Backward functions are plain function pointers (captureless lambdas): what they need lives in
// the node (inputs by id, the op's parameters as a small named struct, saved tensors), so no
// ownership cycle can form. clear() keeps every node and buffer for the next step, which is how
// steady-state steps stop allocating. Broadcast gradients are summed back to an input's shape in
// one place: Backward.
#pragma once

#include "autodiff/tensor.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace torus {

template <typename T>
class Tape;
template <typename T>
class Backward;
template <typename T>
class Var;

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

// Room for an op's parameters inside its node: the largest, the fused conv + pool's shape, is 14
// integers.
inline constexpr std::size_t kOpStateBytes = 128;

namespace detail {
// One address per state type, to check that a backward reads the struct its forward stored.
template <typename S>
inline constexpr char state_tag = 0;
}  // namespace detail

template <typename T>
struct Node {
  const char* op = "";
  Tensor<T> value;                   // unused when `param` is set
  Tensor<T> grad;                    // valid when has_grad
  bool has_grad = false;
  bool requires_grad = false;
  std::vector<int> inputs;           // ids of the parents, in argument order
  BackwardFn<T> backward = nullptr;  // null for leaves and for nodes that need no gradient
  std::vector<int64_t> index_list;   // (L) an op's variable-length integers: index_select's rows,
                                     // permute's inverse permutation, concat's sizes along the axis
  Tensor<T> saved;                   // what the forward keeps for backward; each op names its parts
  Parameter<T>* param = nullptr;     // leaf that reads and accumulates into a Parameter
  double forward_seconds = 0;        // with Tape::set_profiling(true) only
  double backward_seconds = 0;

  // The op's parameters as one small named struct (AxisView, PoolShape, ConvShape ...), copied
  // into inline storage: no allocation, and read back by type, never by slot number.
  template <typename S>
  void set_state(const S& s) {
    static_assert(std::is_trivially_copyable_v<S>, "op state is copied as bytes: make it trivially copyable");
    static_assert(sizeof(S) <= kOpStateBytes, "op state does not fit the node's inline storage (kOpStateBytes)");
    std::memcpy(state_bytes_.data(), &s, sizeof(S));
    state_type_ = &detail::state_tag<S>;
  }
  template <typename S>
  S state() const {
    static_assert(std::is_trivially_copyable_v<S> && sizeof(S) <= kOpStateBytes);
    if (state_type_ != &detail::state_tag<S>) {
      throw std::logic_error(std::string(op) + ": backward reads a state type its forward did not store");
    }
    S s;
    std::memcpy(&s, state_bytes_.data(), sizeof(S));
    return s;
  }

 private:
  friend class Tape<T>;
  alignas(8) std::array<std::byte, kOpStateBytes> state_bytes_{};
  const void* state_type_ = nullptr;
};

// An op between recording its node and attaching its gradient. The op writes value() (and any
// saved state), then calls backward(fn), which returns the op's result: an op has no other way to
// produce its Var, so a missing gradient is a compile error, not a silent zero.
template <typename T>
class [[nodiscard]] Recording {
 public:
  Tensor<T>& value() { return node_.value; }
  Tensor<T>& saved() { return node_.saved; }
  std::vector<int64_t>& index_list() { return node_.index_list; }
  template <typename S>
  void set_state(const S& s) { node_.set_state(s); }
  // Attaches the gradient (kept only when the node requires one) and returns the op's result.
  Var<T> backward(BackwardFn<T> fn);

 private:
  friend class Tape<T>;
  Recording(Tape<T>& tape, Node<T>& node, int id) : tape_(tape), node_(node), id_(id) {}
  Tape<T>& tape_;
  Node<T>& node_;
  int id_;
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
  // nothing.
  struct ConstantBuffer {
    Var<T> var;
    Tensor<T>& value;
  };
  ConstantBuffer constant_buffer(const Shape& s, T fill);
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

  // Appends a node for an op with the given inputs. The op then computes its value into the
  // Recording and ends with Recording::backward. The node requires a gradient when grad mode is
  // on and any input does; only then is the backward function kept.
  Recording<T> record(const OpName& op, std::initializer_list<Var<T>> inputs) {
    return record_range(op, inputs.begin(), inputs.end());
  }
  Recording<T> record(const OpName& op, const std::vector<Var<T>>& inputs) {
    return record_range(op, inputs.data(), inputs.data() + inputs.size());
  }

 private:
  friend class Backward<T>;
  friend class Recording<T>;
  Var<T> last() { return Var<T>(this, size_ - 1); }
  void refuse_after_backward(const char* op, bool requires_grad) const;
  Node<T>& next_node();
  Recording<T> record_range(const OpName& op, const Var<T>* begin, const Var<T>* end);
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
  const char* op() const { return node_.op; }
  // The op's parameters, as the struct its forward stored with Recording::set_state.
  template <typename S>
  S state() const { return node_.template state<S>(); }
  const std::vector<int64_t>& index_list() const { return node_.index_list; }
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

// The op's parameters in a backward function: op_state<PoolShape>(g) reads what the forward
// stored with Recording::set_state (a free function, so templated ops need no `.template`).
template <typename S, typename T>
S op_state(const Backward<T>& g) {
  return g.template state<S>();
}

// Sums `g` over the axes along which `acc`'s shape was broadcast to g's shape, adding into acc.
template <typename T>
void sum_to_shape(const Tensor<T>& g, Tensor<T>& acc);

extern template class Recording<float>;
extern template class Recording<double>;
extern template class Tape<float>;
extern template class Tape<double>;
extern template class Backward<float>;
extern template class Backward<double>;
extern template class Var<float>;
extern template class Var<double>;

}  // namespace torus
