#include "train/export/c_kernels.hpp"

#include <cctype>

namespace torus::train::exportq {

std::string with_prefix(const std::string& text, const std::string& prefix) {
  std::string upper = prefix;
  for (char& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '@' && i + 1 < text.size() && (text[i + 1] == 'p' || text[i + 1] == 'P')) {
      out += text[i + 1] == 'p' ? prefix : upper;
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

namespace {

// The C of quantize.cpp and int8_net.cpp, statement for statement, in pieces: the integer
// arithmetic and the atan2 are shared with the audio export.
const char* kArithmetic = R"C(/* gemmlowp's SaturatingRoundingDoublingHighMul: round(a b / 2^31), ties towards +infinity. */
static int32_t @p_srdhm(int32_t a, int32_t b) {
  int64_t ab;
  int64_t nudge;
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C99 division truncates towards zero */
}

/* floor(x / 2^e) without >> of a negative value (implementation-defined in C99). */
static int32_t @p_asr(int32_t x, int e) { return x >= 0 ? (x >> e) : ~(~x >> e); }

/* gemmlowp's RoundingDivideByPOT: round(x / 2^exponent), ties away from zero. */
static int32_t @p_rdbpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return @p_asr(x, exponent) + (remainder > threshold ? 1 : 0);
}

/* x M, M = mult 2^(shift - 31) (TFLite's MultiplyByQuantizedMultiplier); a left shift saturates. */
static int32_t @p_mbqm(int32_t x, int32_t mult, int32_t shift) {
  const int left = shift > 0 ? (int)shift : 0;
  const int right = shift > 0 ? 0 : (int)-shift;
  int64_t s = (int64_t)x * ((int64_t)1 << left);
  if (s > INT32_MAX) s = INT32_MAX;
  if (s < INT32_MIN) s = INT32_MIN;
  return @p_rdbpot(@p_srdhm((int32_t)s, mult), right);
}

/* Requantise to int8 with the ReLU as the lower clamp (the offset from the zero point in [0, 127 - zp]). */
static int8_t @p_requantize_relu(int32_t acc, int32_t mult, int32_t shift, int32_t zero_point) {
  int32_t v = @p_mbqm(acc, mult, shift);
  if (v > 127 - zero_point) v = 127 - zero_point;
  if (v < 0) v = 0;
  return (int8_t)(zero_point + v);
}

)C";

const char* kConvolutions = R"C(/* One output channel of a 3x3 convolution over a padded input (channels, side+2, side+2). */
static void @p_conv3x3_u8(int32_t *acc, const uint8_t *in, const int8_t *w, int32_t bias, int channels, int side) {
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

static void @p_conv3x3_s8(int32_t *acc, const int8_t *in, const int8_t *w, int32_t bias, int channels, int side) {
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
static int32_t @p_max_pool_2x2(const int32_t *acc, int side, int py, int px) {
  const int32_t *r0 = acc + (2 * py) * side + 2 * px;
  const int32_t *r1 = r0 + side;
  const int32_t a = r0[0] > r0[1] ? r0[0] : r0[1];
  const int32_t b = r1[0] > r1[1] ? r1[0] : r1[1];
  return a > b ? a : b;
}

)C";

const char* kAtan2 = R"C(/* The angle of (x, y) as a uint32 binary angle (2^32 = one turn); (0, 0) gives 0. Octant
   reduction, then atan of the ratio in Q16 from the table with linear interpolation. */
static uint32_t @p_atan2_binary_angle(int32_t y, int32_t x) {
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
  a = i >= 256 ? @p_atan_table[256] : @p_atan_table[i] + (((@p_atan_table[i + 1] - @p_atan_table[i]) * f + 128u) >> 8);
  if (a == 0 && off_axis) a = 1; /* strictly inside the octant: y < 0 just below +x gives code 255 */
  if (steep) a = 0x40000000u - a;
  if (x < 0) a = 0x80000000u - a;
  if (y < 0) a = 0u - a;
  return a;
}

)C";

const char* kEntryPoints = R"C(size_t @p_scratch_bytes(void) { return sizeof(@p_scratch); }

int @p_embed_u8_r(void *scratch, const uint8_t *pixels, uint8_t *codes) {
  @p_scratch *m = (@p_scratch *)scratch;
  int o, py, px, y, x, i, j, d, k;
  if (scratch == NULL || pixels == NULL || codes == NULL) return -1;
  if ((uintptr_t)scratch % sizeof(int32_t) != 0) return -1; /* the accumulators are int32_t */
  for (i = 0; i < 30 * 30; ++i) m->pad0[i] = (uint8_t)@P_MODEL_INPUT_ZERO_POINT;
  for (y = 0; y < 28; ++y)
    for (x = 0; x < 28; ++x) m->pad0[(y + 1) * 30 + x + 1] = pixels[y * 28 + x];
  for (i = 0; i < 32 * 16 * 16; ++i) m->pad1[i] = (int8_t)@P_ACT1_ZERO_POINT;
  for (o = 0; o < 32; ++o) {
    @p_conv3x3_u8(m->acc, m->pad0, &@p_conv1_w[o * 9], @p_conv1_b[o], 1, 28);
    for (py = 0; py < 14; ++py)
      for (px = 0; px < 14; ++px)
        m->pad1[(o * 16 + py + 1) * 16 + px + 1] = @p_requantize_relu(
            @p_max_pool_2x2(m->acc, 28, py, px), @p_conv1_mult[o], @p_conv1_shift[o], @P_ACT1_ZERO_POINT);
  }
  for (o = 0; o < 64; ++o) {
    @p_conv3x3_s8(m->acc, m->pad1, &@p_conv2_w[o * 288], @p_conv2_b[o], 32, 14);
    for (py = 0; py < 7; ++py)
      for (px = 0; px < 7; ++px)
        m->act2[o * 49 + py * 7 + px] = @p_requantize_relu(
            @p_max_pool_2x2(m->acc, 14, py, px), @p_conv2_mult[o], @p_conv2_shift[o], @P_ACT2_ZERO_POINT);
  }
  for (j = 0; j < 128; ++j) {
    int32_t s = @p_fc1_b[j];
    const int8_t *row = &@p_fc1_w[(long)j * 3136];
    for (i = 0; i < 3136; ++i) s += (int32_t)row[i] * (int32_t)m->act2[i];
    m->act3[j] = @p_requantize_relu(s, @p_fc1_mult[j], @p_fc1_shift[j], @P_ACT3_ZERO_POINT);
  }
  for (d = 0; d < @P_MODEL_DIM; ++d) {
    int32_t s = @p_fc2_b[d];
    const int8_t *row = &@p_fc2_w[d * 128];
    for (i = 0; i < 128; ++i) s += (int32_t)row[i] * (int32_t)m->act3[i];
    m->h[d] = s;
  }
  for (k = 0; k < @P_MODEL_CODES; ++k)
    codes[k] = (uint8_t)(@p_atan2_binary_angle(m->h[2 * k + 1], m->h[2 * k]) >> 24);
  return 0;
}

/* One scratch for the whole program: what makes @p_embed_u8 not reentrant. */
static @p_scratch @p_static_scratch;

int @p_embed_u8(const uint8_t *pixels, uint8_t *codes) { return @p_embed_u8_r(&@p_static_scratch, pixels, codes); }
)C";

// Locals plus parameters of each function of kKernels, counted by hand from the text above: a
// function added or changed there must be counted here (the -fstack-usage test then holds the
// bound to what gcc measures).
struct FrameSlots {
  const char* function;
  int slots;
};
constexpr FrameSlots kFrames[] = {
    {"srdhm", 2 + 2},            {"asr", 2},
    {"rdbpot", 2 + 3},           {"mbqm", 3 + 3},
    {"requantize_relu", 4 + 1},  {"conv3x3_u8", 6 + 10},
    {"conv3x3_s8", 6 + 10},      {"max_pool_2x2", 4 + 4},
    {"atan2_binary_angle", 2 + 10}, {"scratch_bytes", 0},
    {"embed_u8_r", 3 + 10 + 4},  {"embed_u8", 2},
};
constexpr std::size_t kSlotBytes = 8, kCallOverheadBytes = 64;

}  // namespace

const char* c_kernels() {
  static const std::string text = std::string(kArithmetic) + kConvolutions + kAtan2 + kEntryPoints;
  return text.c_str();
}

const char* c_integer_arithmetic() { return kArithmetic; }
const char* c_atan2() { return kAtan2; }

std::size_t c_arithmetic_stack_slots() {
  std::size_t slots = 0;
  for (const auto& f : kFrames)
    for (const char* name : {"srdhm", "asr", "rdbpot", "mbqm", "requantize_relu", "atan2_binary_angle"})
      if (std::string(f.function) == name) slots += std::size_t(f.slots);
  return slots;
}

std::size_t c_kernels_stack_bound() {
  std::size_t bytes = 0;
  for (const auto& f : kFrames) bytes += std::size_t(f.slots) * kSlotBytes + kCallOverheadBytes;
  return bytes;
}

}  // namespace torus::train::exportq
