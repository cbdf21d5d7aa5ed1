#include "train/export/codegen_common.hpp"

#include "train/export/codegen.hpp"

namespace torus::train::exportq {

ScratchLayout scratch_layout(const std::vector<ScratchField>& fields, std::size_t align) {
  ScratchLayout s;
  std::ostringstream body;
  for (const ScratchField& f : fields) {
    body << "  " << f.ctype << " " << f.name << "[" << f.count_text << "]; /* " << f.comment << " */\n";
    s.bytes += f.element_bytes * f.count;
  }
  if (s.bytes % align != 0) {
    const std::size_t tail = align - s.bytes % align;
    body << "  uint8_t tail[" << tail << "]; /* makes the size a multiple of the alignment, so sizeof has no hidden padding */\n";
    s.bytes += tail;
  }
  s.fields = body.str();
  return s;
}

std::string comment_safe(std::string text) {
  for (const char* token : {"*/", "/*"})
    for (size_t p = text.find(token); p != std::string::npos; p = text.find(token, p))
      text.replace(p, 2, std::string(1, token[0]) + " " + token[1]);
  return text;
}

std::string weights_section_preamble() {
  return "/* @P_WEIGHTS_SECTION, a string literal, names the linker section of every array below. */\n"
         "#ifdef @P_WEIGHTS_SECTION\n#define @P_IN_WEIGHTS_SECTION __attribute__((section(@P_WEIGHTS_SECTION)))\n"
         "#else\n#define @P_IN_WEIGHTS_SECTION\n#endif\n\n";
}

std::string resources_paragraph(const std::string& entry) {
  return "   Resources (numbers below): flash @P_MODEL_FLASH_BYTES = the const arrays of @p_weights.c (code\n"
         "   not counted; @p_golden.c adds @P_MODEL_GOLDEN_BYTES); RAM @P_MODEL_SCRATCH_BYTES = one @p_scratch,\n"
         "   the caller's for @p_" + entry + "_r, a static one (.bss) for @p_" + entry + "; stack\n"
         "   @P_MODEL_STACK_BYTES, an upper bound for either entry point: every array is in the scratch, so\n"
         "   the stack holds scalars only, and the bound gives each local and parameter of each function\n"
         "   of @p_model.c 8 bytes and each function 64 bytes of return address and saved registers, all\n"
         "   on one chain (none recurses). @p_self_test adds @P_MODEL_CODES bytes and its own frame.\n\n"
         "   Placement: define @P_WEIGHTS_SECTION as a string literal when compiling @p_weights.c\n"
         "   (-D@P_WEIGHTS_SECTION='\".flash_model\"') to put every constant into that linker section\n"
         "   (GCC and Clang syntax); left undefined, they go where const data goes.\n\n";
}

std::string resource_defines(const ResourceBudget& r) {
  std::ostringstream m;
  m << "#define @P_MODEL_FLASH_BYTES " << r.flash_bytes << " /* the const arrays of @p_weights.c */\n"
    << "#define @P_MODEL_SCRATCH_BYTES " << r.scratch_bytes << " /* RAM: sizeof(@p_scratch) */\n"
    << "#define @P_MODEL_STACK_BYTES " << r.stack_bytes << " /* upper bound, either entry point */\n"
    << "#define @P_MODEL_GOLDEN_BYTES " << r.golden_bytes << " /* the const arrays of @p_golden.c */\n\n";
  return m.str();
}

std::string provenance_lines(const Provenance& p) {
  std::ostringstream h;
  h << "   Provenance: checkpoint " << comment_safe(p.checkpoint) << ", epoch " << p.epoch << ", step " << p.step
    << ", seed " << p.seed << ".\n   Calibration: " << comment_safe(p.calibration) << ".\n\n";
  if (!p.prefix_note.empty()) h << "   " << comment_safe(p.prefix_note) << "\n\n";
  h
    << "   The run's config.toml:\n\n" << comment_safe(p.config_toml) << "\n*/\n";
  return h.str();
}

}  // namespace torus::train::exportq
