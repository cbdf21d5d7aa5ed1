// The benchmarks' per-layer breakdown (--profile): each tape node's forward and backward time,
// as medians over the timed steps, printed beside the step's median.
#pragma once

#include "autodiff/tape.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace torus::tools {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Per tape node, the median of its forward and backward times over the timed steps ([node][step]).
struct NodeTimes {
  std::vector<std::vector<double>> forward, backward;
  void record(const Tape<float>& tape) {
    forward.resize(size_t(tape.size()));
    backward.resize(size_t(tape.size()));
    for (int id = 0; id < tape.size(); ++id) {
      forward[size_t(id)].push_back(tape.node(id).forward_seconds);
      backward[size_t(id)].push_back(tape.node(id).backward_seconds);
    }
  }
  void print(const Tape<float>& tape, const std::vector<double>& step_times) const {
    std::fprintf(stderr, "%4s  %-20s %-22s %10s %10s\n", "node", "op", "output", "fwd ms", "bwd ms");
    double total_f = 0, total_b = 0;
    for (int id = 0; id < tape.size(); ++id) {
      const double f = 1e3 * median(forward[size_t(id)]), b = 1e3 * median(backward[size_t(id)]);
      total_f += f;
      total_b += b;
      if (f + b < 0.05) continue;  // leaves and trivial nodes
      std::fprintf(stderr, "%4d  %-20s %-22s %10.2f %10.2f\n", id, tape.node(id).op, tape.node(id).value.shape().str().c_str(), f, b);
    }
    std::fprintf(stderr, "total of node medians: forward %.2f ms, backward %.2f ms (step median %.2f ms)\n", total_f, total_b,
                 1e3 * median(step_times));
  }
};

// The training-step benchmarks' loop: `warmup` untimed steps, then `steps` timed ones. Each
// iteration runs prepare(it) untimed (the batch), then times step(it), which records one step on
// `tape` and returns its loss; with `profile` each node's times too, printed at the end.
struct StepTimes {
  std::vector<double> seconds;  // per timed step
  double first_loss = 0, last_loss = 0;
  double median_ms() const { return 1e3 * median(seconds); }
};

template <typename Prepare, typename Step>
StepTimes time_training_steps(Tape<float>& tape, int warmup, int steps, bool profile, Prepare&& prepare, Step&& step) {
  tape.set_profiling(profile);
  NodeTimes nodes;
  StepTimes out;
  for (int it = 0; it < warmup + steps; ++it) {
    prepare(it);
    const auto t0 = std::chrono::steady_clock::now();
    const double loss = step(it);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (it < warmup) continue;
    out.seconds.push_back(dt);
    (out.seconds.size() == 1 ? out.first_loss : out.last_loss) = loss;
    if (profile) nodes.record(tape);
  }
  if (profile) nodes.print(tape, out.seconds);
  return out;
}

}  // namespace torus::tools
