// The one thread count the whole project honours, and the loop helper that spends it.
// set_num_threads() drives OpenMP and Eigen's GEMM alike. parallel_for() only splits loops whose
// iterations are independent, so its result never depends on the thread count; reductions that
// must be repeatable bit for bit stay sequential (or use a fixed chunking) in the ops themselves.
#pragma once

#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace torus {

// Sets OpenMP's and Eigen's thread counts; n < 1 means 1.
void set_num_threads(int n);
int num_threads();

// Below this many scalar operations a loop runs on the calling thread: forking costs more.
inline constexpr int64_t kParallelGrain = 1 << 15;

// Chunk boundaries fall on multiples of 16 items, so a chunk of a flat buffer starts on a 64-byte
// boundary (see kTensorAlignment) and SIMD code splits it the same way at any thread count.
inline int64_t chunk_start(int64_t n, int c, int chunks) {
  if (c >= chunks) return n;
  return (n * c / chunks) / 16 * 16;
}

// Calls body(begin, end) on disjoint chunks covering [0, n). `work_per_item` is a rough count of
// scalar operations per item, used only to decide whether splitting pays.
template <typename Body>
void parallel_for(int64_t n, int64_t work_per_item, Body&& body) {
#ifdef _OPENMP
  const int threads = num_threads();
  if (threads > 1 && n > 1 && n * work_per_item >= kParallelGrain) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int c = 0; c < threads; ++c) {
      const int64_t begin = chunk_start(n, c, threads);
      const int64_t end = chunk_start(n, c + 1, threads);
      if (begin < end) body(begin, end);
    }
    return;
  }
#endif
  (void)work_per_item;
  body(int64_t{0}, n);
}

// Calls body(chunk, begin, end) for `chunks` contiguous, near-equal slices of [0, n), in parallel
// when OpenMP is on. For loops that keep one partial result per chunk (summed afterwards in chunk
// order, so the total is repeatable for a given chunk count).
template <typename Body>
void parallel_chunks(int64_t n, int chunks, Body&& body) {
#ifdef _OPENMP
  if (chunks > 1) {
#pragma omp parallel for num_threads(chunks) schedule(static)
    for (int c = 0; c < chunks; ++c) body(c, n * c / chunks, n * (c + 1) / chunks);
    return;
  }
#endif
  for (int c = 0; c < chunks; ++c) body(c, n * c / chunks, n * (c + 1) / chunks);
}

}  // namespace torus
