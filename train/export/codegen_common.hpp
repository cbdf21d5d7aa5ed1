// What the two exports' generators (codegen.cpp: the conv net; audio_codegen.cpp: the audio CNN)
// share: the prefix rule, the network's constants as declared/defined const arrays with their byte
// count, the scratch struct laid out without padding, text made safe inside a C comment, the
// weights-section preamble, and the provenance lines of the header. Every text is an "@p"/"@P"
// template (c_kernels.hpp's with_prefix fills it in), except where a comment says verbatim.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace torus::train::exportq {

struct Provenance;
struct ResourceBudget;

// The network's constants: each array declared once in the header (with its size, so that the
// compiler checks the definition against it) and defined in NAME_weights.c; `bytes` is the flash
// they occupy, summed from the very arrays written.
struct ConstantArrays {
  std::ostringstream declarations, definitions;
  std::size_t bytes = 0;

  template <typename V>
  void add(const char* ctype, const std::string& name, const std::vector<V>& values, const std::string& shape_comment) {
    declarations << "extern const " << ctype << " " << name << "[" << values.size() << "]; /* " << shape_comment << " */\n";
    definitions << "/* " << shape_comment << " */\nconst " << ctype << " " << name << "[" << values.size()
                << "] @P_IN_WEIGHTS_SECTION = {";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i % 16 == 0) definitions << "\n ";
      definitions << " " << static_cast<long long>(values[i]) << ",";
    }
    definitions << "\n};\n\n";
    bytes += values.size() * sizeof(V);
  }
};

// One field of the scratch struct: `count_text` is its C size expression, `count` its value.
struct ScratchField {
  const char *ctype, *name;
  std::string count_text;
  std::size_t element_bytes, count;
  std::string comment;
};

// The struct's body and its size. The caller orders the fields widest first, so every field
// starts aligned; `align` (the widest element) pads the end with a `tail` byte array when needed,
// so that sizeof is exactly `bytes`.
struct ScratchLayout {
  std::string fields;
  std::size_t bytes = 0;
};
ScratchLayout scratch_layout(const std::vector<ScratchField>& fields, std::size_t align = 4);

// Text inside a C comment must neither close it ("*/") nor open a nested one ("/*", a warning that
// -Werror turns into an error): both get a space between their characters.
std::string comment_safe(std::string text);

// The top of NAME_weights.c after its include: the section macro of every array.
std::string weights_section_preamble();

// The header comment's paragraphs on resources and placement, for entry points @p_<entry>_r and
// @p_<entry>.
std::string resources_paragraph(const std::string& entry);
// The four #define lines of the resource numbers (flash, scratch, stack, golden) and a blank line.
std::string resource_defines(const ResourceBudget& r);

// "   Provenance: checkpoint ..., epoch .., step .., seed ..\n   Calibration: ...\n\n   The run's
// config.toml:\n\n<verbatim>\n*/\n": the end of the header's opening comment (verbatim text, not
// a template).
std::string provenance_lines(const Provenance& p);

}  // namespace torus::train::exportq
