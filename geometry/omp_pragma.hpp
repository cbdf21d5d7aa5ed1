// OpenMP directives that disappear when the build has no OpenMP (meson -Dopenmp=disabled), so the
// kernels compile without -Wunknown-pragmas warnings either way. Internal to geometry/*.cpp; not
// installed. Usage: TORUS_GEOMETRY_OMP(parallel for num_threads(threads) schedule(static))
#pragma once

#define TORUS_GEOMETRY_OMP_STRING(x) #x
#ifdef _OPENMP
#define TORUS_GEOMETRY_OMP(directive) _Pragma(TORUS_GEOMETRY_OMP_STRING(omp directive))
#else
#define TORUS_GEOMETRY_OMP(directive)
#endif
