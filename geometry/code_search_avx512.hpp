// The AVX-512 kernels of the uint8 and 1-bit code searches (internal to geometry, not
// installed): code_search.cpp calls them when avx512_search_kernels() says the CPU has them.
#pragma once

#include "geometry/code_search_bytes.hpp"

#include <cstdint>

// The AVX-512 kernels (F, BW, VBMI for the byte permute, VNNI for the byte dot products,
// VPOPCNTDQ) are compiled in when the target has them (-march=native here), and with GCC on
// x86-64 also in portable builds, under a target pragma, then chosen at run time by a CPU check:
// the default build (native off) still gets them on a machine that has them.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VBMI__) && defined(__AVX512VNNI__) && \
    defined(__AVX512VPOPCNTDQ__)
#define TORUS_AVX512_CODES 1
#define TORUS_AVX512_DISPATCH 0
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TORUS_AVX512_CODES 1
#define TORUS_AVX512_DISPATCH 1
#else
#define TORUS_AVX512_CODES 0
#define TORUS_AVX512_DISPATCH 0
#endif

namespace torus::geometry::detail {

#if TORUS_AVX512_CODES
// Arguments already checked. By the cosine LUT when lut is given (lut_fits_int8_kernels),
// otherwise by circular L1.
KnnResult<std::int32_t> avx512_code_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                           const CosineLut* lut, int k, int threads);
// The cosine dot product; arguments already checked.
KnnResult<std::int32_t> avx512_dot_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                          const CosineLut& lut, int k, int threads);

HammingFn pick_avx512_hamming(Eigen::Index W);
#endif

}  // namespace torus::geometry::detail
