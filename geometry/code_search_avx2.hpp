// The AVX2 kernels of the uint8 and 1-bit code searches (internal to geometry, not installed), for
// x86-64 CPUs without the AVX-512 set the faster kernels need: code_search.cpp calls them when
// avx2_search_kernels() says the CPU has AVX2, with vnni (AVX-VNNI's vpdpbusd on ymm for the byte
// sums) when avx2_vnni_search_kernels() says it also has AVX-VNNI.
#pragma once

#include "geometry/code_search_bytes.hpp"

#include <cstdint>

// Compiled in when the target has AVX2, and with GCC on x86-64 also in portable builds, under a
// target pragma, then chosen at run time by a CPU check (as the AVX-512 kernels are).
#if defined(__AVX2__)
#define TORUS_AVX2_CODES 1
#define TORUS_AVX2_DISPATCH 0
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TORUS_AVX2_CODES 1
#define TORUS_AVX2_DISPATCH 1
#else
#define TORUS_AVX2_CODES 0
#define TORUS_AVX2_DISPATCH 0
#endif

namespace torus::geometry::detail {

#if TORUS_AVX2_CODES
// Arguments already checked, AVX2 present; vnni: use AVX-VNNI (the CPU must have it). By the
// cosine LUT when lut is given (lut_fits_int8_kernels), otherwise by circular L1. The scores equal
// the portable loops' with or without vnni (the tests run both).
KnnResult<std::int32_t> avx2_code_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                         const CosineLut* lut, int k, int threads, bool vnni);
// The cosine dot product; arguments already checked.
KnnResult<std::int32_t> avx2_dot_search(const Eigen::Ref<const CodeMatrix>& queries, const Eigen::Ref<const CodeMatrix>& refs,
                                        const CosineLut& lut, int k, int threads, bool vnni);

HammingFn pick_avx2_hamming(Eigen::Index W);
#endif

}  // namespace torus::geometry::detail
