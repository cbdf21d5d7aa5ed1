#include "autodiff/parallel.hpp"

#include <Eigen/Core>

namespace torus {

namespace {
// One thread until asked, for OpenMP loops and Eigen's GEMM alike: repeatable by default. (Eigen
// would otherwise take every core OpenMP offers.)
int start_single_threaded() {
  Eigen::setNbThreads(1);
  return 1;
}
int g_threads = start_single_threaded();
}  // namespace

void set_num_threads(int n) {
  g_threads = n < 1 ? 1 : n;
  Eigen::setNbThreads(g_threads);
#ifdef _OPENMP
  omp_set_num_threads(g_threads);
#endif
}

int num_threads() { return g_threads; }

}  // namespace torus
