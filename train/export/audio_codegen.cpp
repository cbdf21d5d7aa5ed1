#include "train/export/audio_codegen.hpp"

#include "train/export/c_kernels.hpp"
#include "train/export/codegen_common.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace torus::train::exportq {

namespace {

// The audio CNN's kernels, streamed by rows so that the RAM holds block inputs and outputs but
// not the output of a block's first convolution at full resolution: four of its rows live in a
// ring (conv rows 2py and 2py+1 read rows 2py-1 .. 2py+2), computed once each as the pooled rows
// advance. The C++ reference (audio_net.cpp) runs whole channels instead; every value is an exact
// int32 sum, so the order does not change a bit, and the tests hold the two equal.
const char* kAudioNetC = R"C(/* One output row of a 3x3 convolution: acc[x] = bias + sum_c,ky,kx w[c][ky][kx] row_ky[c][x + kx], the
   three input rows r0, r1, r2 (each t + 2 wide, padded) with `stride` between channels. */
static void @p_conv3x3_row(int32_t *acc, const int8_t *r0, const int8_t *r1, const int8_t *r2, int stride, int channels,
                           const int8_t *w, int32_t bias, int t) {
  int c, ky, kx, x;
  for (x = 0; x < t; ++x) acc[x] = bias;
  for (c = 0; c < channels; ++c)
    for (ky = 0; ky < 3; ++ky) {
      const int8_t *src = (ky == 0 ? r0 : ky == 1 ? r1 : r2) + c * stride;
      for (kx = 0; kx < 3; ++kx) {
        const int32_t wv = (int32_t)w[(c * 3 + ky) * 3 + kx];
        const int8_t *s = src + kx;
        for (x = 0; x < t; ++x) acc[x] += wv * (int32_t)s[x];
      }
    }
}

/* One block with its batch norms folded in: conv (c_in -> c) requantised with ReLU into the ring,
   conv (c -> c), 2x2 max pool (floor) of the accumulators, requantised with ReLU into the padded
   out (c, h/2+2, t/2+2); the last block sums (q - zp1) per channel into m->gap_sum instead. */
static void @p_block(@p_scratch *m, const int8_t *in, int c_in, int h, int t, int c, const int8_t *w0, const int32_t *b0,
                     const int32_t *mult0, const int32_t *shift0, int32_t zp0, const int8_t *w1, const int32_t *b1,
                     const int32_t *mult1, const int32_t *shift1, int32_t zp1, int last, int8_t *out) {
  const int pt = t + 2, ho = h / 2, to = t / 2, po = to + 2, plane_out = (ho + 2) * po;
  int next = -1, py, o, x, i;
  if (!last)
    for (i = 0; i < c * plane_out; ++i) out[i] = (int8_t)zp1;
  else
    for (o = 0; o < c; ++o) m->gap_sum[o] = 0;
  for (py = 0; py < ho; ++py) {
    for (; next <= 2 * py + 2; ++next) { /* row `next` of the first convolution, -1 and h being its padding */
      int8_t *row = m->ring + ((next + 1) & 3) * c * pt;
      for (i = 0; i < c * pt; ++i) row[i] = (int8_t)zp0;
      if (next < 0 || next >= h) continue;
      for (o = 0; o < c; ++o) {
        @p_conv3x3_row(m->acc, in + next * pt, in + (next + 1) * pt, in + (next + 2) * pt, (h + 2) * pt, c_in,
                       &w0[o * c_in * 9], b0[o], t);
        for (x = 0; x < t; ++x) row[o * pt + x + 1] = @p_requantize_relu(m->acc[x], mult0[o], shift0[o], zp0);
      }
    }
    for (o = 0; o < c; ++o) {
      const int8_t *r0 = m->ring + ((2 * py) & 3) * c * pt, *r1 = m->ring + ((2 * py + 1) & 3) * c * pt;
      const int8_t *r2 = m->ring + ((2 * py + 2) & 3) * c * pt, *r3 = m->ring + ((2 * py + 3) & 3) * c * pt;
      int32_t sum = 0;
      @p_conv3x3_row(m->acc, r0, r1, r2, pt, c, &w1[o * c * 9], b1[o], t);
      @p_conv3x3_row(m->acc + t, r1, r2, r3, pt, c, &w1[o * c * 9], b1[o], t);
      for (x = 0; x < to; ++x) {
        const int32_t *a = m->acc + 2 * x;
        const int32_t top = a[0] > a[1] ? a[0] : a[1], bottom = a[t] > a[t + 1] ? a[t] : a[t + 1];
        const int8_t v = @p_requantize_relu(top > bottom ? top : bottom, mult1[o], shift1[o], zp1);
        if (last) sum += (int32_t)v - zp1;
        else out[o * plane_out + (py + 1) * po + x + 1] = v;
      }
      if (last) m->gap_sum[o] += sum;
    }
  }
}

)C";

// Slots per function of the audio C: kAudioNetC's two, the two entry points and scratch_bytes,
// counted by hand from the texts (the -fstack-usage test holds the sum to gcc's).
constexpr int kAudioNetSlots[] = {
    9 + 4 + 3,       // conv3x3_row: params; c ky kx x; src wv s
    18 + 10 + 1 + 4 + 1 + 4,  // block: params; pt ho to po plane_out next py o x i; row; r0 r1 r2 r3; sum; a top bottom v
    3 + 7,           // embed_pcm_r: params; m i j d k s row
    2,               // embed_pcm
    0,               // scratch_bytes
};
constexpr std::size_t kSlotBytes = 8, kCallOverheadBytes = 64;
constexpr int kArithmeticFunctions = 6;  // c_integer_arithmetic()'s five and c_atan2()'s one

// The C's RAM besides the front end: two padded images the blocks ping-pong between (block b reads
// image b % 2 and writes the other; the spectrogram is image 0), the ring of four rows of a
// block's first convolution, and two rows of accumulators.
struct StreamedBuffers {
  std::size_t image[2] = {0, 0}, ring = 0, accumulators = 0;
};
StreamedBuffers streamed_buffers(const AudioCnnShape& s) {
  StreamedBuffers b;
  for (int block = 0; block < kAudioBlocks; ++block) {
    const std::size_t in = std::size_t(s.in_channels(block)) * std::size_t(s.height(block) + 2) * std::size_t(s.time(block) + 2);
    const std::size_t out = std::size_t(s.channels(block)) * std::size_t(s.height(block + 1) + 2) * std::size_t(s.time(block + 1) + 2);
    b.image[block % 2] = std::max(b.image[block % 2], in);
    if (block + 1 < kAudioBlocks) b.image[(block + 1) % 2] = std::max(b.image[(block + 1) % 2], out);
    b.ring = std::max(b.ring, std::size_t(4) * std::size_t(s.channels(block)) * std::size_t(s.time(block) + 2));
  }
  b.accumulators = std::size_t(2) * std::size_t(s.frames);
  return b;
}

std::string join_blocks(const AudioModel& model) {
  const AudioCnnShape& s = model.net.shape;
  std::ostringstream c;
  for (int block = 0; block < kAudioBlocks; ++block) {
    const int l0 = 2 * block, l1 = l0 + 1;
    const Int8Conv& q0 = model.net.conv[size_t(l0)];
    const Int8Conv& q1 = model.net.conv[size_t(l1)];
    const bool last = block + 1 == kAudioBlocks;
    c << "  @p_block(m, m->image" << block % 2 << ", " << q0.in_channels << ", " << s.height(block) << ", " << s.time(block) << ", "
      << q0.out_channels << ",\n           @p_conv" << l0 << "_w, @p_conv" << l0 << "_b, @p_conv" << l0 << "_mult, @p_conv" << l0
      << "_shift, " << q0.act.zero_point << ",\n           @p_conv" << l1 << "_w, @p_conv" << l1 << "_b, @p_conv" << l1
      << "_mult, @p_conv" << l1 << "_shift, " << q1.act.zero_point << ", " << (last ? 1 : 0) << ", "
      << (last ? std::string("NULL") : "m->image" + std::to_string((block + 1) % 2)) << ");\n";
  }
  return c.str();
}

ConstantArrays audio_constants(const AudioModel& model) {
  const IntLogMel& fe = model.front_end;
  const InputQuantization& iq = model.input_quantization;
  const Int8AudioCnn& n = model.net;
  ConstantArrays a;
  a.add("int32_t", "@p_fe_window", fe.window, "(n_fft) Q30 periodic Hann window");
  a.add("int32_t", "@p_fe_cos_q30", fe.cos_q30, "(n_fft / 2) round(2^30 cos(2 pi k / n_fft))");
  a.add("int32_t", "@p_fe_sin_q30", fe.sin_q30, "(n_fft / 2) round(2^30 sin(2 pi k / n_fft))");
  a.add("uint16_t", "@p_fe_bit_reverse", fe.bit_reverse, "(n_fft / 2) the FFT's input permutation");
  a.add("int32_t", "@p_fe_band_start", fe.band_start, "(n_mels) first bin of each mel band");
  a.add("int32_t", "@p_fe_band_length", fe.band_length, "(n_mels) bins in each band");
  a.add("int32_t", "@p_fe_band_offset", fe.band_offset, "(n_mels) first weight of each band");
  a.add("int16_t", "@p_fe_band_weights", fe.band_weights, "Q15 mel weights, each band's largest 32767");
  a.add("int32_t", "@p_fe_band_db_offset", fe.band_db_offset, "(n_mels) Q16 dB of each band's weight scale");
  a.add("int32_t", "@p_fe_log_table", fe.log_table, "(257) Q16 round(2^16 10 log10(1 + i / 256))");
  a.add("int32_t", "@p_fe_mean_q16", iq.mean_q16, "(n_mels) Q16 dB training mean per band");
  a.add("int32_t", "@p_fe_mult", iq.mult, "(n_mels) Q31 multipliers of 1 / (std_b input scale)");
  a.add("int32_t", "@p_fe_shift", iq.shift, "(n_mels) shifts");
  for (int l = 0; l < kAudioConvs; ++l) {
    const Int8Conv& q = n.conv[size_t(l)];
    const std::string p = "@p_conv" + std::to_string(l), shape = "(" + std::to_string(q.out_channels);
    a.add("int8_t", p + "_w", q.w, shape + ", " + std::to_string(q.in_channels) + ", 3, 3) batch norm folded in");
    a.add("int32_t", p + "_b", q.b, shape + ") bias - input zero point x sum of weights");
    a.add("int32_t", p + "_mult", q.mult, shape + ") Q31 multipliers");
    a.add("int32_t", p + "_shift", q.shift, shape + ") shifts");
  }
  const int F = 8 * n.shape.width;
  a.add("int8_t", "@p_fc1_w", n.fc1_w, "(" + std::to_string(n.shape.hidden) + ", " + std::to_string(F) + ")");
  a.add("int32_t", "@p_fc1_b", n.fc1_b, "(" + std::to_string(n.shape.hidden) + ")");
  a.add("int32_t", "@p_fc1_mult", n.fc1_mult, "(" + std::to_string(n.shape.hidden) + ")");
  a.add("int32_t", "@p_fc1_shift", n.fc1_shift, "(" + std::to_string(n.shape.hidden) + ")");
  a.add("int8_t", "@p_fc2_w", n.fc2_w, "(D, " + std::to_string(n.shape.hidden) + ") one scale per pair");
  a.add("int32_t", "@p_fc2_b", n.fc2_b, "(D)");
  const auto& table = atan_table();
  a.add("uint32_t", "@p_atan_table", std::vector<std::uint32_t>(table.begin(), table.end()),
        "(257) round(2^32 atan(i / 256) / (2 pi)): the first octant in binary angles");
  return a;
}

ScratchLayout audio_scratch(const AudioModel& model) {
  const AudioCnnShape& s = model.net.shape;
  const StreamedBuffers b = streamed_buffers(s);
  const int N = model.front_end.n_fft, F = 8 * s.width;
  const auto count = [](std::size_t v) { return std::to_string(v); };
  return scratch_layout(
      {
          {"uint64_t", "power", count(size_t(N / 2 + 1)), 8, size_t(N / 2 + 1), "(n_fft / 2 + 1) one frame's power"},
          {"int32_t", "fft", count(size_t(N)), 4, size_t(N), "(n_fft / 2, 2) the frame as complex points"},
          {"int32_t", "db", count(size_t(s.n_mels)), 4, size_t(s.n_mels), "(n_mels) one frame's Q16 dB"},
          {"int32_t", "acc", count(b.accumulators), 4, b.accumulators, "(2, frames) two rows of accumulators"},
          {"int32_t", "gap_sum", count(size_t(F)), 4, size_t(F), "(8w) the last block's sums per channel"},
          {"int32_t", "h", "@P_MODEL_DIM", 4, size_t(s.dim), "(D) the head's output"},
          {"int8_t", "image0", count(b.image[0]), 1, b.image[0], "padded input of blocks 0 and 2; first the spectrogram"},
          {"int8_t", "image1", count(b.image[1]), 1, b.image[1], "padded input of blocks 1 and 3"},
          {"int8_t", "ring", count(b.ring), 1, b.ring, "(4, c, t+2) rows of a block's first convolution"},
          {"int8_t", "gap", count(size_t(F)), 1, size_t(F), "(8w) pooled features"},
          {"int8_t", "fc1", count(size_t(s.hidden)), 1, size_t(s.hidden), "(hidden)"},
      },
      8);
}

std::string model_header(const AudioModel& model, const Provenance& p, const AudioGoldenVectors& golden,
                         const std::string& declarations, const ScratchLayout& scratch, const ResourceBudget& r,
                         const std::string& prefix) {
  const AudioCnnShape& s = model.net.shape;
  const datasets::LogMelConfig& lm = model.input.log_mel;
  const int K = s.dim / 2;
  const auto t = [&](const std::string& text) { return with_prefix(text, prefix); };
  std::ostringstream h;
  h << t("/* @p_model.h: a torusN embedding of ") << model.input.samples() << " samples of 16-bit PCM at " << lm.sample_rate
    << " Hz as " << K << " uint8 angle codes,\n"
    << "   in integers only. Generated by torus-export; do not edit. Needs <stdint.h> and <stddef.h> only;\n"
    << "   no malloc, no floating point.\n\n"
    << "   Front end (its floating-point reference is datasets::log_mel, torchaudio's MelSpectrogram +\n"
    << "   AmplitudeToDB):\n"
    << "   n_fft " << lm.n_fft << ", hop " << lm.hop << ", periodic Hann (Q30), reflect padding by n_fft / 2, "
    << lm.n_mels << " mel bands\n   from " << lm.f_min << " to " << lm.f_max << " Hz ("
    << (lm.scale == datasets::MelScale::htk ? "HTK" : "Slaney") << " scale" << (lm.slaney_norm ? ", Slaney area normalisation" : "")
    << "), 10 log10(max(power, " << lm.floor << ")) for samples x / 32768;\n"
    << "   a radix-2 FFT of n_fft / 2 complex points with Q30 twiddles and a block exponent per frame,\n"
    << "   power in uint64, sparse Q15 mel weights with a block exponent per band, log by leading-bit\n"
    << "   count and a 257-entry table, in Q16 dB; then per band (dB - mean_b) / std_b (the training normalisation of input.json) and\n"
    << "   the first convolution's input quantisation in one Q31 multiplier. " << s.n_mels << " x " << s.frames
    << " frames.\n\n"
    << "   Network: audio CNN width " << s.width << " (4 blocks of 2 x [conv3x3, batch norm folded in, ReLU] + 2x2\n"
    << "   max pool), global average pool, Linear(" << 8 * s.width << " -> " << s.hidden << ") ReLU, Linear(" << s.hidden
    << " -> " << s.dim << "), integer atan2 per pair;\n"
    << "   int8 weights per output channel, int32 accumulators, Q31 requantisation.\n"
    << "   Code k is floor(256 u_k) mod 256, u_k the angle of circle k in turns.\n\n"
    << t("   Files: @p_model.c (the forward pass), @p_weights.c (the constants), @p_golden.c (golden\n"
         "   vectors and @p_self_test; leave it out of a product build). Every name carries the prefix\n"
         "   \"@p\" (macros \"@P\"), so exports with other prefixes link into the same program.\n\n")
    << t(resources_paragraph("embed_pcm"))
    << provenance_lines(p);
  std::ostringstream m;
  m << "#ifndef @P_MODEL_H\n#define @P_MODEL_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
    << "#define @P_MODEL_FORMAT_VERSION " << kFormatVersion << "\n"
    << "#define @P_MODEL_SAMPLE_RATE " << lm.sample_rate << "\n"
    << "#define @P_MODEL_INPUT_SAMPLES " << model.input.samples() << " /* int16 PCM of one crop, (frames - 1) hop */\n"
    << "#define @P_MODEL_MELS " << s.n_mels << "\n#define @P_MODEL_FRAMES " << s.frames << "\n"
    << "#define @P_MODEL_INPUT_ZERO_POINT " << model.net.input.zero_point << " /* of the normalised log-mel */\n"
    << "#define @P_MODEL_INPUT_NORMALIZATION_FOLDED 1 /* pass raw PCM */\n"
    << "#define @P_MODEL_DIM " << s.dim << " /* D, the head's output */\n"
    << "#define @P_MODEL_CODES " << K << " /* D/2 circles, one uint8 code each */\n"
    << "#define @P_MODEL_SEED " << p.seed << "\n#define @P_MODEL_EPOCH " << p.epoch << "\n"
    << "#define @P_MODEL_STEP " << p.step << "\n"
    << "#define @P_MODEL_GOLDEN_COUNT " << golden.count << "\n\n"
    << resource_defines(r)
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "/* One crop's intermediate values. A struct so that a static or automatic buffer gets the size\n"
    << "   and the alignment @p_embed_pcm_r needs; its fields are not an interface. */\n"
    << "typedef struct @p_scratch {\n" << scratch.fields << "} @p_scratch;\n\n"
    << "/* sizeof(@p_scratch), @P_MODEL_SCRATCH_BYTES: what @p_embed_pcm_r needs, aligned for uint64_t. */\n"
    << "size_t @p_scratch_bytes(void);\n\n"
    << "/* Reentrant: @P_MODEL_INPUT_SAMPLES int16 samples in, @P_MODEL_CODES codes out, all intermediate\n"
    << "   values in `scratch` (@p_scratch_bytes() bytes, aligned for uint64_t, e.g. a @p_scratch; its\n"
    << "   contents need no initialisation and are garbage afterwards). Calls with different scratch\n"
    << "   buffers may run at the same time. Returns 0, or -1 for a null pointer or a misaligned scratch. */\n"
    << "int @p_embed_pcm_r(void *scratch, const int16_t *pcm, uint8_t *codes);\n\n"
    << "/* @p_embed_pcm_r on a static @p_scratch: the same codes, not reentrant. Returns 0, or -1 for a\n"
    << "   null pointer. */\n"
    << "int @p_embed_pcm(const int16_t *pcm, uint8_t *codes);\n\n"
    << "/* In @p_golden.c: runs the golden inputs; returns 0 when every output matches, else the number\n"
    << "   that differ. */\n"
    << "int @p_self_test(void);\n\n"
    << "extern const int16_t @p_golden_pcm[@P_MODEL_GOLDEN_COUNT][@P_MODEL_INPUT_SAMPLES];\n"
    << "extern const uint8_t @p_golden_codes[@P_MODEL_GOLDEN_COUNT][@P_MODEL_CODES];\n"
    << "/* The floating-point model's codes of the same crops (not checked by @p_self_test: the integer\n"
    << "   pipeline is within a step or two of them, not equal). */\n"
    << "extern const uint8_t @p_golden_float_codes[@P_MODEL_GOLDEN_COUNT][@P_MODEL_CODES];\n\n"
    << "/* The model's constants, defined in @p_weights.c (not an interface). */\n"
    << declarations << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* @P_MODEL_H */\n";
  return h.str() + t(m.str());
}

std::string model_source(const AudioModel& model) {
  const IntLogMel& fe = model.front_end;
  const AudioCnnShape& s = model.net.shape;
  const StreamedBuffers b = streamed_buffers(s);
  const int F = 8 * s.width;
  std::ostringstream c;
  c << "/* @p_model.c: generated by torus-export (format " << kFormatVersion << "); do not edit.\n"
    << "   int16 PCM -> integer log-mel -> int8 audio CNN -> integer atan2 codes. The constants are in\n"
    << "   @p_weights.c. */\n"
    << "#include \"@p_model.h\"\n\n"
    << "#define @P_FE_N_FFT " << fe.n_fft << "\n#define @P_FE_HALF " << fe.n_fft / 2 << "\n"
    << "#define @P_FE_HOP " << fe.hop << "\n#define @P_FE_MELS " << fe.n_mels << "\n"
    << "#define @P_FE_HEADROOM_BITS " << fe.frame_headroom_bits << " /* a frame is scaled to |u| <= 2^this */\n"
    << "#define @P_FE_GUARD_BITS " << fe.mel_guard_bits << " /* 15 + ceil(log2(longest band)) */\n"
    << "#define @P_FE_DB_PER_OCTAVE_Q16 " << fe.db_per_octave_q16 << " /* 10 log10 2 in Q16 */\n"
    << "#define @P_FE_FLOOR_DB_Q16 (" << fe.floor_db_q16 << ") /* 10 log10(floor) in Q16 */\n"
    << "#define @P_GAP_MULT " << model.net.gap_mult << "\n#define @P_GAP_SHIFT (" << model.net.gap_shift << ")\n"
    << "#define @P_GAP_ZERO_POINT (" << model.net.gap.zero_point << ")\n"
    << "#define @P_FC1_ZERO_POINT (" << model.net.fc1_act.zero_point << ")\n\n"
    << c_integer_arithmetic() << c_atan2() << log_mel_c() << kAudioNetC
    << "size_t @p_scratch_bytes(void) { return sizeof(@p_scratch); }\n\n"
    << "int @p_embed_pcm_r(void *scratch, const int16_t *pcm, uint8_t *codes) {\n"
    << "  @p_scratch *m = (@p_scratch *)scratch;\n"
    << "  int i, j, d, k;\n"
    << "  if (scratch == NULL || pcm == NULL || codes == NULL) return -1;\n"
    << "  if ((uintptr_t)scratch % sizeof(uint64_t) != 0) return -1; /* the power spectrum is uint64_t */\n"
    << "  for (i = 0; i < " << b.image[0] << "; ++i) m->image0[i] = (int8_t)@P_MODEL_INPUT_ZERO_POINT;\n"
    << "  @p_log_mel_input(m, pcm, @P_MODEL_INPUT_SAMPLES, m->image0 + (@P_MODEL_FRAMES + 2) + 1, @P_MODEL_FRAMES + 2);\n"
    << join_blocks(model)
    << "  for (i = 0; i < " << F << "; ++i) m->gap[i] = @p_requantize_relu(m->gap_sum[i], @P_GAP_MULT, @P_GAP_SHIFT, @P_GAP_ZERO_POINT);\n"
    << "  for (j = 0; j < " << s.hidden << "; ++j) {\n"
    << "    int32_t s = @p_fc1_b[j];\n"
    << "    const int8_t *row = &@p_fc1_w[j * " << F << "];\n"
    << "    for (i = 0; i < " << F << "; ++i) s += (int32_t)row[i] * (int32_t)m->gap[i];\n"
    << "    m->fc1[j] = @p_requantize_relu(s, @p_fc1_mult[j], @p_fc1_shift[j], @P_FC1_ZERO_POINT);\n"
    << "  }\n"
    << "  for (d = 0; d < @P_MODEL_DIM; ++d) {\n"
    << "    int32_t s = @p_fc2_b[d];\n"
    << "    const int8_t *row = &@p_fc2_w[d * " << s.hidden << "];\n"
    << "    for (i = 0; i < " << s.hidden << "; ++i) s += (int32_t)row[i] * (int32_t)m->fc1[i];\n"
    << "    m->h[d] = s;\n"
    << "  }\n"
    << "  for (k = 0; k < @P_MODEL_CODES; ++k)\n"
    << "    codes[k] = (uint8_t)(@p_atan2_binary_angle(m->h[2 * k + 1], m->h[2 * k]) >> 24);\n"
    << "  return 0;\n}\n\n"
    << "/* One scratch for the whole program: what makes @p_embed_pcm not reentrant. */\n"
    << "static @p_scratch @p_static_scratch;\n\n"
    << "int @p_embed_pcm(const int16_t *pcm, uint8_t *codes) { return @p_embed_pcm_r(&@p_static_scratch, pcm, codes); }\n";
  return c.str();
}

std::string weights_source(const AudioModel& model, const ConstantArrays& constants) {
  std::ostringstream c;
  c << "/* @p_weights.c: generated by torus-export (format " << kFormatVersion << "); do not edit.\n"
    << "   The front end's tables and the int8 audio CNN's constants, @P_MODEL_FLASH_BYTES bytes: weights\n"
    << "   symmetric int8 per output channel (fc2: per pair) with batch norm folded in, int32 biases with\n"
    << "   the input zero point folded in, a Q31 multiplier and a shift per channel, the atan table.\n"
    << "   Width " << model.net.shape.width << ", D = " << model.net.shape.dim << ". */\n"
    << "#include \"@p_model.h\"\n\n"
    << weights_section_preamble() << constants.definitions.str();
  return c.str();
}

std::string golden_source(const AudioGoldenVectors& golden, int samples, int K) {
  std::ostringstream c;
  const auto codes = [&](const char* name, const std::vector<std::uint8_t>& v) {
    c << "const uint8_t " << name << "[@P_MODEL_GOLDEN_COUNT][@P_MODEL_CODES] = {";
    for (int n = 0; n < golden.count; ++n) {
      c << "\n  {";
      for (int k = 0; k < K; ++k) c << int(v[size_t(n) * K + k]) << (k + 1 < K ? ", " : "");
      c << "},";
    }
    c << "\n};\n\n";
  };
  c << "/* @p_golden.c: generated by torus-export (format " << kFormatVersion << "); do not edit.\n"
    << "   Golden vectors: crops of PCM, the codes the C++ integer reference gives them, and the\n"
    << "   floating-point model's codes. */\n"
    << "#include \"@p_model.h\"\n\n"
    << "const int16_t @p_golden_pcm[@P_MODEL_GOLDEN_COUNT][@P_MODEL_INPUT_SAMPLES] = {";
  for (int n = 0; n < golden.count; ++n) {
    c << "\n  {";
    for (int i = 0; i < samples; ++i) c << (i % 16 == 0 ? "\n   " : " ") << golden.pcm[size_t(n) * samples + i] << ",";
    c << "\n  },";
  }
  c << "\n};\n\n";
  codes("@p_golden_codes", golden.codes);
  codes("@p_golden_float_codes", golden.float_codes);
  c << "int @p_self_test(void) {\n"
    << "  uint8_t codes[@P_MODEL_CODES];\n"
    << "  int n, k, failed = 0;\n"
    << "  for (n = 0; n < @P_MODEL_GOLDEN_COUNT; ++n) {\n"
    << "    int bad = @p_embed_pcm(@p_golden_pcm[n], codes) != 0;\n"
    << "    for (k = 0; k < @P_MODEL_CODES; ++k) bad |= codes[k] != @p_golden_codes[n][k];\n"
    << "    failed += bad;\n"
    << "  }\n"
    << "  return failed;\n"
    << "}\n";
  return c.str();
}

}  // namespace

std::size_t audio_c_stack_bound() {
  std::size_t slots = c_arithmetic_stack_slots() + std::size_t(log_mel_c_slots());
  int functions = kArithmeticFunctions + log_mel_c_functions();
  for (int s : kAudioNetSlots) {
    slots += std::size_t(s);
    ++functions;
  }
  return slots * kSlotBytes + std::size_t(functions) * kCallOverheadBytes;
}

GeneratedC generate_audio_c(const AudioModel& model, const Provenance& p, const AudioGoldenVectors& golden, const std::string& prefix) {
  if (!is_c_prefix(prefix))
    throw std::invalid_argument("generate_audio_c: prefix \"" + prefix + "\" is not a C identifier starting with a letter");
  const int K = model.net.shape.dim / 2, samples = model.input.samples();
  if (golden.count < 1 || golden.pcm.size() != size_t(golden.count) * size_t(samples) ||
      golden.codes.size() != size_t(golden.count) * K || golden.float_codes.size() != size_t(golden.count) * K)
    throw std::invalid_argument("generate_audio_c: golden vectors do not match their count");
  const ConstantArrays constants = audio_constants(model);
  const ScratchLayout scratch = audio_scratch(model);
  GeneratedC g;
  g.prefix = prefix;
  g.resources.flash_bytes = constants.bytes;
  g.resources.scratch_bytes = scratch.bytes;
  g.resources.stack_bytes = audio_c_stack_bound();
  g.resources.golden_bytes = golden.pcm.size() * 2 + golden.codes.size() + golden.float_codes.size();
  g.header = model_header(model, p, golden, constants.declarations.str(), scratch, g.resources, prefix);
  g.source = with_prefix(model_source(model), prefix);
  g.weights = with_prefix(weights_source(model, constants), prefix);
  g.golden = with_prefix(golden_source(golden, samples, K), prefix);
  return g;
}

std::string generate_audio_test_driver(const std::string& prefix) {
  return with_prefix(R"C(/* Test driver of the audio export: PCM (n x @P_MODEL_INPUT_SAMPLES int16) -> CODES (n x @P_MODEL_CODES). */
#include "@p_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int16_t pcm[@P_MODEL_INPUT_SAMPLES];

int main(int argc, char **argv) {
  uint8_t codes[@P_MODEL_CODES];
  FILE *in;
  FILE *out;
  long n = 0, repeats = 0, r;
  clock_t ticks = 0;
  int self_test;
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s PCM CODES [REPEATS]\n", argv[0]);
    return 2;
  }
  if (argc == 4) repeats = atol(argv[3]);
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
  while (fread(pcm, sizeof pcm[0], @P_MODEL_INPUT_SAMPLES, in) == @P_MODEL_INPUT_SAMPLES) {
    clock_t start = clock();
    for (r = 0; r < repeats; ++r) @p_embed_pcm(pcm, codes);
    ticks += clock() - start;
    if (@p_embed_pcm(pcm, codes) != 0 || fwrite(codes, 1, sizeof codes, out) != sizeof codes) {
      fclose(in);
      fclose(out);
      return 3;
    }
    ++n;
  }
  fclose(in);
  if (fclose(out) != 0) return 2;
  printf("crops %ld\n", n);
  if (repeats > 0 && n > 0) printf("seconds_per_crop %.6f\n", (double)ticks / CLOCKS_PER_SEC / (double)(n * repeats));
  return self_test == 0 ? 0 : 1;
}
)C",
                     prefix);
}

}  // namespace torus::train::exportq
