#include "autodiff/parallel.hpp"

#include <Eigen/Core>

namespace torus {

namespace {
int g_threads = 1;  // one thread until asked: repeatable by default
}

void set_num_threads(int n) {
  g_threads = n < 1 ? 1 : n;
  Eigen::setNbThreads(g_threads);
#ifdef _OPENMP
  omp_set_num_threads(g_threads);
#endif
}

int num_threads() { return g_threads; }

}  // namespace torus
