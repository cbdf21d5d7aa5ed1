// The fixed part of the generated C: the integer kernels of quantize.cpp and int8_net.cpp as C99
// text, the two entry points that run them over caller-owned or static scratch, and what that
// costs in stack. The text names everything through two placeholders, "@p" (the export's prefix,
// as given) and "@P" (the prefix in upper case, for macros), which with_prefix() fills in, so
// two exports can share one firmware. Not here: the weights and the header (codegen.cpp).
#pragma once

#include <cstddef>
#include <string>

namespace torus::train::exportq {

// `text` with "@p" replaced by `prefix` and "@P" by its upper-case form.
std::string with_prefix(const std::string& text, const std::string& prefix);

// The kernels and the entry points @p_scratch_bytes, @p_embed_u8_r and @p_embed_u8; they use the
// constants and the @p_scratch type the header declares, and the zero-point macros
// @P_ACT1_ZERO_POINT .. @P_ACT3_ZERO_POINT that the model file defines before this text.
const char* c_kernels();

// Its pieces the audio export shares: @p_srdhm, @p_asr, @p_rdbpot, @p_mbqm, @p_requantize_relu
// (quantize.cpp's arithmetic), and @p_atan2_binary_angle with its table @p_atan_table.
const char* c_integer_arithmetic();
const char* c_atan2();
// The slots (locals + parameters) of those six functions, for a stack bound that includes them.
std::size_t c_arithmetic_stack_slots();

// An upper bound on the stack of either entry point, in bytes. Every array lives in the scratch,
// so the stack holds only scalar locals, parameters and call overhead, and it does not depend on
// the layer shapes. The bound gives every local and parameter of every function in c_kernels()
// an 8-byte slot (the widest scalar, int64_t or a pointer) and every function 64 bytes of return
// address and saved registers (x86-64 saves at most 56, Cortex-M's push {r4-r11, lr} 36), and puts
// all the functions on one chain: none recurses, so no call chain holds one twice.
std::size_t c_kernels_stack_bound();

}  // namespace torus::train::exportq
