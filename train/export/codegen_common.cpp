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

std::string provenance_lines(const Provenance& p) {
  std::ostringstream h;
  h << "   Provenance: checkpoint " << comment_safe(p.checkpoint) << ", epoch " << p.epoch << ", step " << p.step
    << ", seed " << p.seed << ".\n   Calibration: " << comment_safe(p.calibration) << ".\n\n"
    << "   The run's config.toml:\n\n" << comment_safe(p.config_toml) << "\n*/\n";
  return h.str();
}

}  // namespace torus::train::exportq
