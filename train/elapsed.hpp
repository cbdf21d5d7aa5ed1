// Wall-clock seconds since a point in time, on the monotonic clock: the one helper every binary and
// the trainer use to report throughput and durations. Reports only; nothing is decided by a
// timing, and no test compares one.
#pragma once

#include <chrono>

namespace torus::train {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace torus::train
