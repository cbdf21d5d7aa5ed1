#include "train/export/codegen.hpp"

#include <sstream>
#include <stdexcept>

namespace torus::train::exportq {

namespace {

// `static const ctype name[n] = {...};`, 16 values a line.
template <typename V>
void emit_array(std::ostringstream& out, const char* ctype, const std::string& name, const std::vector<V>& values,
                const std::string& shape_comment) {
  out << "/* " << shape_comment << " */\nstatic const " << ctype << " " << name << "[" << values.size() << "] = {";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i % 16 == 0) out << "\n ";
    out << " " << static_cast<long long>(values[i]) << ",";
  }
  out << "\n};\n\n";
}

// Text inside a C comment must neither close it ("*/") nor open a nested one ("/*", a warning that
// -Werror turns into an error): both get a space between their characters.
std::string comment_safe(std::string text) {
  for (const char* token : {"*/", "/*"})
    for (size_t p = text.find(token); p != std::string::npos; p = text.find(token, p))
      text.replace(p, 2, std::string(1, token[0]) + " " + token[1]);
  return text;
}

// The integer kernels: the C of quantize.cpp and int8_net.cpp, statement for statement.
const char* kKernels = R"C(/* gemmlowp's SaturatingRoundingDoublingHighMul: round(a b / 2^31), ties towards +infinity. */
static int32_t torus_srdhm(int32_t a, int32_t b) {
  int64_t ab;
  int64_t nudge;
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C99 division truncates towards zero */
}

/* floor(x / 2^e) without >> of a negative value (implementation-defined in C99). */
static int32_t torus_asr(int32_t x, int e) { return x >= 0 ? (x >> e) : ~(~x >> e); }

/* gemmlowp's RoundingDivideByPOT: round(x / 2^exponent), ties away from zero. */
static int32_t torus_rdbpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return torus_asr(x, exponent) + (remainder > threshold ? 1 : 0);
}

/* x M, M = mult 2^(shift - 31) (TFLite's MultiplyByQuantizedMultiplier); a left shift saturates. */
static int32_t torus_mbqm(int32_t x, int32_t mult, int32_t shift) {
  const int left = shift > 0 ? (int)shift : 0;
  const int right = shift > 0 ? 0 : (int)-shift;
  int64_t s = (int64_t)x * ((int64_t)1 << left);
  if (s > INT32_MAX) s = INT32_MAX;
  if (s < INT32_MIN) s = INT32_MIN;
  return torus_rdbpot(torus_srdhm((int32_t)s, mult), right);
}

/* Requantise to int8 with the ReLU as the lower clamp (the offset from the zero point in [0, 127 - zp]). */
static int8_t torus_requantize_relu(int32_t acc, int32_t mult, int32_t shift, int32_t zero_point) {
  int32_t v = torus_mbqm(acc, mult, shift);
  if (v > 127 - zero_point) v = 127 - zero_point;
  if (v < 0) v = 0;
  return (int8_t)(zero_point + v);
}

/* One output channel of a 3x3 convolution over a padded input (channels, side+2, side+2). */
static void torus_conv3x3_u8(int32_t *acc, const uint8_t *in, const int8_t *w, int32_t bias, int channels, int side) {
  const int ps = side + 2;
  int c, ky, kx, y, x;
  for (y = 0; y < side * side; ++y) acc[y] = bias;
  for (c = 0; c < channels; ++c)
    for (ky = 0; ky < 3; ++ky)
      for (kx = 0; kx < 3; ++kx) {
        const int32_t wv = (int32_t)w[(c * 3 + ky) * 3 + kx];
        const uint8_t *src = in + (c * ps + ky) * ps + kx;
        for (y = 0; y < side; ++y) {
          int32_t *a = acc + y * side;
          const uint8_t *s = src + y * ps;
          for (x = 0; x < side; ++x) a[x] += wv * (int32_t)s[x];
        }
      }
}

static void torus_conv3x3_s8(int32_t *acc, const int8_t *in, const int8_t *w, int32_t bias, int channels, int side) {
  const int ps = side + 2;
  int c, ky, kx, y, x;
  for (y = 0; y < side * side; ++y) acc[y] = bias;
  for (c = 0; c < channels; ++c)
    for (ky = 0; ky < 3; ++ky)
      for (kx = 0; kx < 3; ++kx) {
        const int32_t wv = (int32_t)w[(c * 3 + ky) * 3 + kx];
        const int8_t *src = in + (c * ps + ky) * ps + kx;
        for (y = 0; y < side; ++y) {
          int32_t *a = acc + y * side;
          const int8_t *s = src + y * ps;
          for (x = 0; x < side; ++x) a[x] += wv * (int32_t)s[x];
        }
      }
}

/* 2x2 max pooling of int32 accumulators: requantisation is monotone, so pooling first is exact. */
static int32_t torus_max_pool_2x2(const int32_t *acc, int side, int py, int px) {
  const int32_t *r0 = acc + (2 * py) * side + 2 * px;
  const int32_t *r1 = r0 + side;
  const int32_t a = r0[0] > r0[1] ? r0[0] : r0[1];
  const int32_t b = r1[0] > r1[1] ? r1[0] : r1[1];
  return a > b ? a : b;
}

/* The angle of (x, y) as a uint32 binary angle (2^32 = one turn); (0, 0) gives 0. Octant
   reduction, then atan of the ratio in Q16 from the table with linear interpolation. */
static uint32_t torus_atan2_binary_angle(int32_t y, int32_t x) {
  const uint32_t ax = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
  const uint32_t ay = y < 0 ? 0u - (uint32_t)y : (uint32_t)y;
  int steep, off_axis;
  uint32_t lo, hi, t, i, f, a;
  if (ax == 0 && ay == 0) return 0;
  steep = ay > ax;
  lo = steep ? ax : ay;
  hi = steep ? ay : ax;
  off_axis = lo != 0;
  while (hi >= 32768u) {
    hi >>= 1;
    lo >>= 1;
  }
  t = ((lo << 16) + (hi >> 1)) / hi;
  i = t >> 8;
  f = t & 255u;
  a = i >= 256 ? torus_atan_table[256] : torus_atan_table[i] + (((torus_atan_table[i + 1] - torus_atan_table[i]) * f + 128u) >> 8);
  if (a == 0 && off_axis) a = 1; /* strictly inside the octant: y < 0 just below +x gives code 255 */
  if (steep) a = 0x40000000u - a;
  if (x < 0) a = 0x80000000u - a;
  if (y < 0) a = 0u - a;
  return a;
}

/* Static scratch: torus_embed_u8 is not reentrant. */
static uint8_t torus_pad0[30 * 30];    /* (1, 30, 30) pixels, border = the input zero point */
static int8_t torus_pad1[32 * 16 * 16]; /* (32, 16, 16) act1, border = its zero point */
static int8_t torus_act2[3136];        /* (64, 7, 7) */
static int8_t torus_act3[128];
static int32_t torus_acc[28 * 28];     /* one conv channel */
static int32_t torus_h[TORUS_MODEL_DIM];

int torus_embed_u8(const uint8_t *pixels, uint8_t *codes) {
  int o, py, px, y, x, i, j, d, k;
  if (pixels == NULL || codes == NULL) return -1;
  for (i = 0; i < 30 * 30; ++i) torus_pad0[i] = (uint8_t)TORUS_INPUT_ZERO_POINT;
  for (y = 0; y < 28; ++y)
    for (x = 0; x < 28; ++x) torus_pad0[(y + 1) * 30 + x + 1] = pixels[y * 28 + x];
  for (i = 0; i < 32 * 16 * 16; ++i) torus_pad1[i] = (int8_t)TORUS_ACT1_ZERO_POINT;
  for (o = 0; o < 32; ++o) {
    torus_conv3x3_u8(torus_acc, torus_pad0, &torus_conv1_w[o * 9], torus_conv1_b[o], 1, 28);
    for (py = 0; py < 14; ++py)
      for (px = 0; px < 14; ++px)
        torus_pad1[(o * 16 + py + 1) * 16 + px + 1] = torus_requantize_relu(
            torus_max_pool_2x2(torus_acc, 28, py, px), torus_conv1_mult[o], torus_conv1_shift[o], TORUS_ACT1_ZERO_POINT);
  }
  for (o = 0; o < 64; ++o) {
    torus_conv3x3_s8(torus_acc, torus_pad1, &torus_conv2_w[o * 288], torus_conv2_b[o], 32, 14);
    for (py = 0; py < 7; ++py)
      for (px = 0; px < 7; ++px)
        torus_act2[o * 49 + py * 7 + px] = torus_requantize_relu(
            torus_max_pool_2x2(torus_acc, 14, py, px), torus_conv2_mult[o], torus_conv2_shift[o], TORUS_ACT2_ZERO_POINT);
  }
  for (j = 0; j < 128; ++j) {
    int32_t s = torus_fc1_b[j];
    const int8_t *row = &torus_fc1_w[(long)j * 3136];
    for (i = 0; i < 3136; ++i) s += (int32_t)row[i] * (int32_t)torus_act2[i];
    torus_act3[j] = torus_requantize_relu(s, torus_fc1_mult[j], torus_fc1_shift[j], TORUS_ACT3_ZERO_POINT);
  }
  for (d = 0; d < TORUS_MODEL_DIM; ++d) {
    int32_t s = torus_fc2_b[d];
    const int8_t *row = &torus_fc2_w[d * 128];
    for (i = 0; i < 128; ++i) s += (int32_t)row[i] * (int32_t)torus_act3[i];
    torus_h[d] = s;
  }
  for (k = 0; k < TORUS_MODEL_CODES; ++k)
    codes[k] = (uint8_t)(torus_atan2_binary_angle(torus_h[2 * k + 1], torus_h[2 * k]) >> 24);
  return 0;
}

int torus_self_test(void) {
  uint8_t codes[TORUS_MODEL_CODES];
  int n, k, failed = 0;
  for (n = 0; n < TORUS_MODEL_GOLDEN_COUNT; ++n) {
    int bad = torus_embed_u8(torus_golden_pixels[n], codes) != 0;
    for (k = 0; k < TORUS_MODEL_CODES; ++k) bad |= codes[k] != torus_golden_codes[n][k];
    failed += bad;
  }
  return failed;
}
)C";

}  // namespace

namespace {
// torus_model.h: the API, the sizes and the provenance (with the run's config.toml).
std::string model_header(const Int8ConvNet& net, const Provenance& p, const GoldenVectors& golden) {
  const int K = net.dim / 2;
  std::ostringstream h;
  h << "/* torus_model.h: a torusN embedding of 28x28 greyscale images as " << K << " uint8 angle codes, in\n"
    << "   integers only (int8 weights, int32 accumulators, an integer atan2). Generated by torus-export;\n"
    << "   do not edit. Needs <stdint.h> and <stddef.h> only; no malloc, no floating point.\n"
    << "   Code k is floor(256 u_k) mod 256, u_k the angle of circle k in turns; compare codes by\n"
    << "   sum_k cos(2 pi (a_k - b_k) / 256) (a 256-entry int16 table; an int8 one makes near neighbours\n"
    << "   tie and cost about a point of precision@1) or circular L1 on (int8_t)(a_k - b_k).\n\n"
    << "   Provenance: checkpoint " << comment_safe(p.checkpoint) << ", epoch " << p.epoch << ", step " << p.step
    << ", seed " << p.seed << ".\n   Calibration: " << comment_safe(p.calibration) << ".\n\n"
    << "   The run's config.toml:\n\n" << comment_safe(p.config_toml) << "\n*/\n"
    << "#ifndef TORUS_MODEL_H\n#define TORUS_MODEL_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
    << "#define TORUS_MODEL_FORMAT_VERSION " << kFormatVersion << "\n"
    << "#define TORUS_MODEL_INPUT_CHANNELS 1\n#define TORUS_MODEL_INPUT_HEIGHT 28\n#define TORUS_MODEL_INPUT_WIDTH 28\n"
    << "#define TORUS_MODEL_INPUT_SIZE 784 /* uint8 pixels, row-major, as in the IDX files */\n"
    << "#define TORUS_MODEL_DIM " << net.dim << " /* D, the head's output */\n"
    << "#define TORUS_MODEL_CODES " << K << " /* D/2 circles, one uint8 code each */\n"
    << "#define TORUS_MODEL_SEED " << p.seed << "\n#define TORUS_MODEL_EPOCH " << p.epoch << "\n"
    << "#define TORUS_MODEL_STEP " << p.step << "\n"
    << "#define TORUS_MODEL_GOLDEN_COUNT " << golden.count << "\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "/* 784 pixels in, TORUS_MODEL_CODES codes out. Returns 0, or -1 for a null pointer.\n"
    << "   Uses static scratch buffers (15.5 KB): not reentrant. */\n"
    << "int torus_embed_u8(const uint8_t *pixels, uint8_t *codes);\n\n"
    << "/* Runs the golden inputs; returns 0 when every output matches, else the number that differ. */\n"
    << "int torus_self_test(void);\n\n"
    << "extern const uint8_t torus_golden_pixels[TORUS_MODEL_GOLDEN_COUNT][TORUS_MODEL_INPUT_SIZE];\n"
    << "extern const uint8_t torus_golden_codes[TORUS_MODEL_GOLDEN_COUNT][TORUS_MODEL_CODES];\n\n"
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* TORUS_MODEL_H */\n";
  return h.str();
}

// The int8 network's constants as C arrays: zero points, weights, biases, requantisation, atan table.
void emit_weights(std::ostringstream& c, const Int8ConvNet& net) {
  c << "#define TORUS_INPUT_ZERO_POINT " << net.input_zero_point << "\n"
    << "#define TORUS_ACT1_ZERO_POINT " << net.act1.zero_point << "\n"
    << "#define TORUS_ACT2_ZERO_POINT " << net.act2.zero_point << "\n"
    << "#define TORUS_ACT3_ZERO_POINT " << net.act3.zero_point << "\n\n";
  emit_array(c, "int8_t", "torus_conv1_w", net.conv1_w, "(32, 1, 3, 3)");
  emit_array(c, "int32_t", "torus_conv1_b", net.conv1_b, "(32) bias - input zero point x sum of weights");
  emit_array(c, "int32_t", "torus_conv1_mult", net.conv1_mult, "(32) Q31 multipliers");
  emit_array(c, "int32_t", "torus_conv1_shift", net.conv1_shift, "(32) shifts");
  emit_array(c, "int8_t", "torus_conv2_w", net.conv2_w, "(64, 32, 3, 3)");
  emit_array(c, "int32_t", "torus_conv2_b", net.conv2_b, "(64)");
  emit_array(c, "int32_t", "torus_conv2_mult", net.conv2_mult, "(64)");
  emit_array(c, "int32_t", "torus_conv2_shift", net.conv2_shift, "(64)");
  emit_array(c, "int8_t", "torus_fc1_w", net.fc1_w, "(128, 3136)");
  emit_array(c, "int32_t", "torus_fc1_b", net.fc1_b, "(128)");
  emit_array(c, "int32_t", "torus_fc1_mult", net.fc1_mult, "(128)");
  emit_array(c, "int32_t", "torus_fc1_shift", net.fc1_shift, "(128)");
  emit_array(c, "int8_t", "torus_fc2_w", net.fc2_w, "(D, 128)");
  emit_array(c, "int32_t", "torus_fc2_b", net.fc2_b, "(D)");
  const auto& table = atan_table();
  emit_array(c, "uint32_t", "torus_atan_table", std::vector<std::uint32_t>(table.begin(), table.end()),
             "(257) round(2^32 atan(i / 256) / (2 pi)): the first octant in binary angles");
}

// The golden inputs and their codes, which torus_self_test() runs.
void emit_golden(std::ostringstream& c, const GoldenVectors& golden, int K) {
  c << "const uint8_t torus_golden_pixels[TORUS_MODEL_GOLDEN_COUNT][TORUS_MODEL_INPUT_SIZE] = {";
  for (int n = 0; n < golden.count; ++n) {
    c << "\n  {";
    for (int i = 0; i < kPixels; ++i) c << (i % 28 == 0 ? "\n   " : " ") << int(golden.pixels[size_t(n) * kPixels + i]) << ",";
    c << "\n  },";
  }
  c << "\n};\n\nconst uint8_t torus_golden_codes[TORUS_MODEL_GOLDEN_COUNT][TORUS_MODEL_CODES] = {";
  for (int n = 0; n < golden.count; ++n) {
    c << "\n  {";
    for (int k = 0; k < K; ++k) c << int(golden.codes[size_t(n) * K + k]) << (k + 1 < K ? ", " : "");
    c << "},";
  }
  c << "\n};\n\n";
}
}  // namespace

GeneratedC generate_c(const Int8ConvNet& net, const Provenance& p, const GoldenVectors& golden) {
  const int K = net.dim / 2;
  if (golden.count < 1 || golden.pixels.size() != size_t(golden.count) * kPixels || golden.codes.size() != size_t(golden.count) * K)
    throw std::invalid_argument("generate_c: golden vectors do not match their count");
  GeneratedC g;
  g.header = model_header(net, p, golden);
  std::ostringstream c;
  c << "/* torus_model.c: generated by torus-export (format " << kFormatVersion << "); do not edit.\n"
    << "   The int8 network: conv3x3(1->32) pool relu, conv3x3(32->64) pool relu, fc(3136->128) relu,\n"
    << "   fc(128->" << net.dim << "), then an integer atan2 per pair. Weights are symmetric int8 per output\n"
    << "   channel (fc2: per pair); biases int32 with the input zero point folded in; activations int8\n"
    << "   with zero points; requantisation by a Q31 multiplier and a shift per channel. */\n"
    << "#include \"torus_model.h\"\n\n";
  emit_weights(c, net);
  emit_golden(c, golden, K);
  c << kKernels;
  g.source = c.str();
  return g;
}

std::string generate_test_driver() {
  return R"C(/* Test driver of torus-export --check: IMAGES (n x 784 uint8) -> CODES (n x TORUS_MODEL_CODES). */
#include "torus_model.h"

#include <stdio.h>

int main(int argc, char **argv) {
  uint8_t pixels[TORUS_MODEL_INPUT_SIZE];
  uint8_t codes[TORUS_MODEL_CODES];
  FILE *in;
  FILE *out;
  long n = 0;
  int self_test;
  if (argc != 3) {
    fprintf(stderr, "usage: %s IMAGES CODES\n", argv[0]);
    return 2;
  }
  self_test = torus_self_test();
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
    if (torus_embed_u8(pixels, codes) != 0 || fwrite(codes, 1, sizeof codes, out) != sizeof codes) {
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
)C";
}

}  // namespace torus::train::exportq
