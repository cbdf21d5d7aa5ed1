#include "train/export/codegen.hpp"

#include "train/export/c_kernels.hpp"

#include <sstream>
#include <stdexcept>

namespace torus::train::exportq {

bool is_c_prefix(const std::string& prefix) {
  const auto letter = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); };
  if (prefix.empty() || !letter(prefix[0])) return false;
  for (char ch : prefix)
    if (!letter(ch) && !(ch >= '0' && ch <= '9') && ch != '_') return false;
  return true;
}

std::vector<std::pair<std::string, std::string>> GeneratedC::files() const {
  return {{prefix + "_model.h", header}, {prefix + "_model.c", source}, {prefix + "_weights.c", weights},
          {prefix + "_golden.c", golden}};
}

namespace {

// The network's constants: each array declared once in the header (with its size, so that the
// compiler checks the definition against it) and defined in NAME_weights.c; `bytes` is the flash
// they occupy, summed from the very arrays written. Names are "@p_..." templates.
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

ConstantArrays network_constants(const Int8ConvNet& net) {
  ConstantArrays a;
  a.add("int8_t", "@p_conv1_w", net.conv1_w, "(32, 1, 3, 3)");
  a.add("int32_t", "@p_conv1_b", net.conv1_b, "(32) bias - input zero point x sum of weights");
  a.add("int32_t", "@p_conv1_mult", net.conv1_mult, "(32) Q31 multipliers");
  a.add("int32_t", "@p_conv1_shift", net.conv1_shift, "(32) shifts");
  a.add("int8_t", "@p_conv2_w", net.conv2_w, "(64, 32, 3, 3)");
  a.add("int32_t", "@p_conv2_b", net.conv2_b, "(64)");
  a.add("int32_t", "@p_conv2_mult", net.conv2_mult, "(64)");
  a.add("int32_t", "@p_conv2_shift", net.conv2_shift, "(64)");
  a.add("int8_t", "@p_fc1_w", net.fc1_w, "(128, 3136)");
  a.add("int32_t", "@p_fc1_b", net.fc1_b, "(128)");
  a.add("int32_t", "@p_fc1_mult", net.fc1_mult, "(128)");
  a.add("int32_t", "@p_fc1_shift", net.fc1_shift, "(128)");
  a.add("int8_t", "@p_fc2_w", net.fc2_w, "(D, 128)");
  a.add("int32_t", "@p_fc2_b", net.fc2_b, "(D)");
  const auto& table = atan_table();
  a.add("uint32_t", "@p_atan_table", std::vector<std::uint32_t>(table.begin(), table.end()),
        "(257) round(2^32 atan(i / 256) / (2 pi)): the first octant in binary angles");
  return a;
}

// The scratch of one image, int32 fields first: every field then starts aligned and the byte
// arrays sum to a multiple of 4, so the struct has no padding and its sizeof is `bytes`.
struct ScratchLayout {
  std::string fields;  // the struct's body, "@p" templated
  std::size_t bytes = 0;
};

ScratchLayout scratch_layout(int dim) {
  struct Field {
    const char *ctype, *name, *count_text;
    std::size_t element_bytes, count;
    const char* comment;
  };
  const Field fields[] = {
      {"int32_t", "acc", "28 * 28", 4, 28 * 28, "one conv channel's accumulators"},
      {"int32_t", "h", "@P_MODEL_DIM", 4, std::size_t(dim), "(D) the head's output"},
      {"uint8_t", "pad0", "30 * 30", 1, 30 * 30, "(1, 30, 30) pixels, border = the input zero point"},
      {"int8_t", "pad1", "32 * 16 * 16", 1, 32 * 16 * 16, "(32, 16, 16) act1, border = its zero point"},
      {"int8_t", "act2", "64 * 7 * 7", 1, 64 * 7 * 7, "(64, 7, 7)"},
      {"int8_t", "act3", "128", 1, 128, "(128)"},
  };
  ScratchLayout s;
  std::ostringstream body;
  for (const Field& f : fields) {
    body << "  " << f.ctype << " " << f.name << "[" << f.count_text << "]; /* " << f.comment << " */\n";
    s.bytes += f.element_bytes * f.count;
  }
  s.fields = body.str();
  return s;
}

// Text inside a C comment must neither close it ("*/") nor open a nested one ("/*", a warning that
// -Werror turns into an error): both get a space between their characters.
std::string comment_safe(std::string text) {
  for (const char* token : {"*/", "/*"})
    for (size_t p = text.find(token); p != std::string::npos; p = text.find(token, p))
      text.replace(p, 2, std::string(1, token[0]) + " " + token[1]);
  return text;
}

// NAME_model.h. Only the templated parts go through with_prefix: the provenance is verbatim text.
std::string model_header(const Int8ConvNet& net, const Provenance& p, const GoldenVectors& golden,
                         const std::string& constant_declarations, const ScratchLayout& scratch, const ResourceBudget& r,
                         const std::string& prefix) {
  const int K = net.dim / 2;
  const auto t = [&](const std::string& text) { return with_prefix(text, prefix); };
  std::ostringstream h;
  h << t("/* @p_model.h: a torusN embedding of 28x28 greyscale images as ") << K
    << " uint8 angle codes, in\n"
    << "   integers only (int8 weights, int32 accumulators, an integer atan2). Generated by torus-export;\n"
    << "   do not edit. Needs <stdint.h> and <stddef.h> only; no malloc, no floating point.\n"
    << "   Code k is floor(256 u_k) mod 256, u_k the angle of circle k in turns; compare codes by\n"
    << "   sum_k cos(2 pi (a_k - b_k) / 256) (a 256-entry int16 table; an int8 one makes near neighbours\n"
    << "   tie and cost about a point of precision@1) or circular L1 on (int8_t)(a_k - b_k).\n\n"
    << "   Input: 784 uint8 pixels, one channel, 28 rows of 28, row-major as in the IDX files, raw 0..255.\n"
    << "   The training normalisation x = (p / 255 - mean) / std, mean " << p.normalization.mean << ", std "
    << p.normalization.std << ", is folded\n   into the first layer (input zero point " << net.input_zero_point
    << " and conv1's biases): do not normalise.\n\n"
    << t("   Files: @p_model.c (the forward pass), @p_weights.c (the constants), @p_golden.c (golden\n"
         "   vectors and @p_self_test; leave it out of a product build). Every name carries the prefix\n"
         "   \"@p\" (macros \"@P\"), so exports with other prefixes link into the same program.\n\n"
         "   Resources (numbers below): flash @P_MODEL_FLASH_BYTES = the const arrays of @p_weights.c (code\n"
         "   not counted; @p_golden.c adds @P_MODEL_GOLDEN_BYTES); RAM @P_MODEL_SCRATCH_BYTES = one @p_scratch,\n"
         "   the caller's for @p_embed_u8_r, a static one (.bss) for @p_embed_u8; stack\n"
         "   @P_MODEL_STACK_BYTES, an upper bound for either entry point: every array is in the scratch, so\n"
         "   the stack holds scalars only, and the bound gives each local and parameter of each function\n"
         "   of @p_model.c 8 bytes and each function 64 bytes of return address and saved registers, all\n"
         "   on one chain (none recurses). @p_self_test adds @P_MODEL_CODES bytes and its own frame.\n\n"
         "   Placement: define @P_WEIGHTS_SECTION as a string literal when compiling @p_weights.c\n"
         "   (-D@P_WEIGHTS_SECTION='\".flash_model\"') to put every constant into that linker section\n"
         "   (GCC and Clang syntax); left undefined, they go where const data goes.\n\n")
    << "   Provenance: checkpoint " << comment_safe(p.checkpoint) << ", epoch " << p.epoch << ", step " << p.step
    << ", seed " << p.seed << ".\n   Calibration: " << comment_safe(p.calibration) << ".\n\n"
    << "   The run's config.toml:\n\n" << comment_safe(p.config_toml) << "\n*/\n";
  std::ostringstream m;
  m << "#ifndef @P_MODEL_H\n#define @P_MODEL_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
    << "#define @P_MODEL_FORMAT_VERSION " << kFormatVersion << "\n"
    << "#define @P_MODEL_INPUT_CHANNELS 1\n#define @P_MODEL_INPUT_HEIGHT 28\n#define @P_MODEL_INPUT_WIDTH 28\n"
    << "#define @P_MODEL_INPUT_SIZE 784 /* uint8 pixels, row-major, as in the IDX files */\n"
    << "#define @P_MODEL_INPUT_ZERO_POINT " << net.input_zero_point << " /* round(255 mean) */\n"
    << "#define @P_MODEL_INPUT_NORMALIZATION_FOLDED 1 /* pass raw pixels */\n"
    << "#define @P_MODEL_DIM " << net.dim << " /* D, the head's output */\n"
    << "#define @P_MODEL_CODES " << K << " /* D/2 circles, one uint8 code each */\n"
    << "#define @P_MODEL_SEED " << p.seed << "\n#define @P_MODEL_EPOCH " << p.epoch << "\n"
    << "#define @P_MODEL_STEP " << p.step << "\n"
    << "#define @P_MODEL_GOLDEN_COUNT " << golden.count << "\n\n"
    << "#define @P_MODEL_FLASH_BYTES " << r.flash_bytes << " /* the const arrays of @p_weights.c */\n"
    << "#define @P_MODEL_SCRATCH_BYTES " << r.scratch_bytes << " /* RAM: sizeof(@p_scratch) */\n"
    << "#define @P_MODEL_STACK_BYTES " << r.stack_bytes << " /* upper bound, either entry point */\n"
    << "#define @P_MODEL_GOLDEN_BYTES " << r.golden_bytes << " /* the const arrays of @p_golden.c */\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "/* One image's activations. A struct so that a static or automatic buffer gets the size and\n"
    << "   the alignment @p_embed_u8_r needs; its fields are not an interface. */\n"
    << "typedef struct @p_scratch {\n" << scratch.fields << "} @p_scratch;\n\n"
    << "/* sizeof(@p_scratch), @P_MODEL_SCRATCH_BYTES: what @p_embed_u8_r needs, aligned for int32_t. */\n"
    << "size_t @p_scratch_bytes(void);\n\n"
    << "/* Reentrant: 784 pixels in, @P_MODEL_CODES codes out, all intermediate values in `scratch`\n"
    << "   (@p_scratch_bytes() bytes, aligned for int32_t, e.g. a @p_scratch; its contents need no\n"
    << "   initialisation and are garbage afterwards). Calls with different scratch buffers may run\n"
    << "   at the same time. Returns 0, or -1 for a null pointer or a misaligned scratch. */\n"
    << "int @p_embed_u8_r(void *scratch, const uint8_t *pixels, uint8_t *codes);\n\n"
    << "/* @p_embed_u8_r on a static @p_scratch: the same codes, not reentrant. Returns 0, or -1 for a\n"
    << "   null pointer. */\n"
    << "int @p_embed_u8(const uint8_t *pixels, uint8_t *codes);\n\n"
    << "/* In @p_golden.c: runs the golden inputs; returns 0 when every output matches, else the number\n"
    << "   that differ. */\n"
    << "int @p_self_test(void);\n\n"
    << "extern const uint8_t @p_golden_pixels[@P_MODEL_GOLDEN_COUNT][@P_MODEL_INPUT_SIZE];\n"
    << "extern const uint8_t @p_golden_codes[@P_MODEL_GOLDEN_COUNT][@P_MODEL_CODES];\n\n"
    << "/* The network's constants, defined in @p_weights.c (the model's own; not an interface). */\n"
    << constant_declarations
    << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* @P_MODEL_H */\n";
  return h.str() + t(m.str());
}

std::string weights_source(const Int8ConvNet& net, const ConstantArrays& constants) {
  std::ostringstream c;
  c << "/* @p_weights.c: generated by torus-export (format " << kFormatVersion << "); do not edit.\n"
    << "   The int8 network's constants, @P_MODEL_FLASH_BYTES bytes: weights symmetric int8 per output\n"
    << "   channel (fc2: per pair), int32 biases with the input zero point folded in, a Q31 multiplier and\n"
    << "   a shift per channel, the atan table. D = " << net.dim << ". */\n"
    << "#include \"@p_model.h\"\n\n"
    << "/* @P_WEIGHTS_SECTION, a string literal, names the linker section of every array below. */\n"
    << "#ifdef @P_WEIGHTS_SECTION\n#define @P_IN_WEIGHTS_SECTION __attribute__((section(@P_WEIGHTS_SECTION)))\n"
    << "#else\n#define @P_IN_WEIGHTS_SECTION\n#endif\n\n"
    << constants.definitions.str();
  return c.str();
}

std::string model_source(const Int8ConvNet& net) {
  std::ostringstream c;
  c << "/* @p_model.c: generated by torus-export (format " << kFormatVersion << "); do not edit.\n"
    << "   The int8 network: conv3x3(1->32) pool relu, conv3x3(32->64) pool relu, fc(3136->128) relu,\n"
    << "   fc(128->" << net.dim << "), then an integer atan2 per pair; activations int8 with zero points,\n"
    << "   requantised by a Q31 multiplier and a shift per channel. The constants are in @p_weights.c. */\n"
    << "#include \"@p_model.h\"\n\n"
    << "#define @P_ACT1_ZERO_POINT " << net.act1.zero_point << "\n"
    << "#define @P_ACT2_ZERO_POINT " << net.act2.zero_point << "\n"
    << "#define @P_ACT3_ZERO_POINT " << net.act3.zero_point << "\n\n"
    << c_kernels();
  return c.str();
}

// The golden inputs and their codes, and the self-test that runs them.
std::string golden_source(const GoldenVectors& golden, int K) {
  std::ostringstream c;
  c << "/* @p_golden.c: generated by torus-export (format " << kFormatVersion << "); do not edit.\n"
    << "   Golden vectors: test images and the codes the C++ integer reference gives them. */\n"
    << "#include \"@p_model.h\"\n\n"
    << "const uint8_t @p_golden_pixels[@P_MODEL_GOLDEN_COUNT][@P_MODEL_INPUT_SIZE] = {";
  for (int n = 0; n < golden.count; ++n) {
    c << "\n  {";
    for (int i = 0; i < kPixels; ++i) c << (i % 28 == 0 ? "\n   " : " ") << int(golden.pixels[size_t(n) * kPixels + i]) << ",";
    c << "\n  },";
  }
  c << "\n};\n\nconst uint8_t @p_golden_codes[@P_MODEL_GOLDEN_COUNT][@P_MODEL_CODES] = {";
  for (int n = 0; n < golden.count; ++n) {
    c << "\n  {";
    for (int k = 0; k < K; ++k) c << int(golden.codes[size_t(n) * K + k]) << (k + 1 < K ? ", " : "");
    c << "},";
  }
  c << "\n};\n\n"
    << "int @p_self_test(void) {\n"
    << "  uint8_t codes[@P_MODEL_CODES];\n"
    << "  int n, k, failed = 0;\n"
    << "  for (n = 0; n < @P_MODEL_GOLDEN_COUNT; ++n) {\n"
    << "    int bad = @p_embed_u8(@p_golden_pixels[n], codes) != 0;\n"
    << "    for (k = 0; k < @P_MODEL_CODES; ++k) bad |= codes[k] != @p_golden_codes[n][k];\n"
    << "    failed += bad;\n"
    << "  }\n"
    << "  return failed;\n"
    << "}\n";
  return c.str();
}

}  // namespace

GeneratedC generate_c(const Int8ConvNet& net, const Provenance& p, const GoldenVectors& golden, const std::string& prefix) {
  if (!is_c_prefix(prefix))
    throw std::invalid_argument("generate_c: prefix \"" + prefix + "\" is not a C identifier starting with a letter");
  const int K = net.dim / 2;
  if (golden.count < 1 || golden.pixels.size() != size_t(golden.count) * kPixels || golden.codes.size() != size_t(golden.count) * K)
    throw std::invalid_argument("generate_c: golden vectors do not match their count");
  const ConstantArrays constants = network_constants(net);
  const ScratchLayout scratch = scratch_layout(net.dim);
  GeneratedC g;
  g.prefix = prefix;
  g.resources.flash_bytes = constants.bytes;
  g.resources.scratch_bytes = scratch.bytes;
  g.resources.stack_bytes = c_kernels_stack_bound();
  g.resources.golden_bytes = golden.pixels.size() + golden.codes.size();
  g.header = model_header(net, p, golden, constants.declarations.str(), scratch, g.resources, prefix);
  g.source = with_prefix(model_source(net), prefix);
  g.weights = with_prefix(weights_source(net, constants), prefix);
  g.golden = with_prefix(golden_source(golden, K), prefix);
  return g;
}

std::string generate_test_driver(const std::string& prefix) {
  return with_prefix(R"C(/* Test driver of torus-export --check: IMAGES (n x 784 uint8) -> CODES (n x @P_MODEL_CODES). */
#include "@p_model.h"

#include <stdio.h>

int main(int argc, char **argv) {
  uint8_t pixels[@P_MODEL_INPUT_SIZE];
  uint8_t codes[@P_MODEL_CODES];
  FILE *in;
  FILE *out;
  long n = 0;
  int self_test;
  if (argc != 3) {
    fprintf(stderr, "usage: %s IMAGES CODES\n", argv[0]);
    return 2;
  }
  self_test = @p_self_test();
  printf("self_test %d\n", self_test);
  in = fopen(argv[1], "rb");
  if (in == NULL) {
    perror(argv[1]);
    return 2;
  }
  out = fopen(argv[2], "wb");
  if (out == NULL) {
    perror(argv[2]);
    fclose(in);
    return 2;
  }
  while (fread(pixels, 1, sizeof pixels, in) == sizeof pixels) {
    if (@p_embed_u8(pixels, codes) != 0 || fwrite(codes, 1, sizeof codes, out) != sizeof codes) {
      fclose(in);
      fclose(out);
      return 3;
    }
    ++n;
  }
  fclose(in);
  if (fclose(out) != 0) return 2;
  printf("images %ld\n", n);
  return self_test == 0 ? 0 : 1;
}
)C",
                     prefix);
}

}  // namespace torus::train::exportq
