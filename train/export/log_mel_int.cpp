#include "train/export/log_mel_int.hpp"

#include <algorithm>
#include <cmath>
#include <bit>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace torus::train::exportq {

namespace {

// 0 for 0, else 1 + the index of the leading one (the C text spells the same out by halving).
int bit_length(std::uint64_t x) { return int(std::bit_width(x)); }

// floor(x / 2^e) without >> of a negative value (implementation-defined in C99).
std::int64_t asr64(std::int64_t x, int e) { return x >= 0 ? (x >> e) : ~(~x >> e); }

// round(x / 2^30), ties towards +infinity: a product with a Q30 twiddle back to the data's scale.
std::int32_t round_q30(std::int64_t x) { return std::int32_t(asr64(x + (std::int64_t(1) << 29), 30)); }

// In place on z (n_fft / 2 complex points, interleaved re, im): bit reversal, then radix-2
// decimation in time, twiddle W = cos - i sin of angle 2 pi j / len, from the n_fft-point tables.
void complex_fft(const IntLogMel& fe, std::int32_t* z) {
  const int M = fe.n_fft / 2;
  for (int k = 0; k < M; ++k) {
    const int r = fe.bit_reverse[size_t(k)];
    if (r > k) {
      std::swap(z[2 * k], z[2 * r]);
      std::swap(z[2 * k + 1], z[2 * r + 1]);
    }
  }
  for (int len = 2; len <= M; len <<= 1) {
    const int half_len = len / 2, step = fe.n_fft / len;
    for (int s = 0; s < M; s += len)
      for (int j = 0; j < half_len; ++j) {
        const std::int64_t c = fe.cos_q30[size_t(j * step)], sn = fe.sin_q30[size_t(j * step)];
        const int a = s + j, b = a + half_len;
        const std::int64_t br = z[2 * b], bi = z[2 * b + 1];
        // (br + i bi)(c - i sn)
        const std::int32_t tr = round_q30(br * c + bi * sn), ti = round_q30(bi * c - br * sn);
        const std::int32_t ar = z[2 * a], ai = z[2 * a + 1];
        z[2 * b] = ar - tr;
        z[2 * b + 1] = ai - ti;
        z[2 * a] = ar + tr;
        z[2 * a + 1] = ai + ti;
      }
  }
}

// Bin k (0..M) of the real DFT, doubled, from Z = FFT_M(x_even + i x_odd):
// 2X[k] = E + W_N^k O, E = Z[k] + conj(Z[M-k]), O = -i (Z[k] - conj(Z[M-k])).
void split_bin(const IntLogMel& fe, const std::int32_t* z, int k, std::int64_t& re, std::int64_t& im) {
  const int M = fe.n_fft / 2;
  const int ka = k % M, kb = (M - k) % M;
  const std::int64_t ar = z[2 * ka], ai = z[2 * ka + 1], br = z[2 * kb], bi = -std::int64_t(z[2 * kb + 1]);
  const std::int64_t er = ar + br, ei = ai + bi, orr = ai - bi, oi = br - ar;
  const std::int64_t c = k < M ? fe.cos_q30[size_t(k)] : -(std::int64_t(1) << 30), sn = k < M ? fe.sin_q30[size_t(k)] : 0;
  re = er + round_q30(orr * c + oi * sn);
  im = ei + round_q30(oi * c - orr * sn);
}

// One frame's power (doubled DFT, squared) into `power` (M + 1); returns false for a frame of
// zeros, else sets `exponent` e: true power = power 2^(2e - 92) (samples x / 2^15, the window
// Q30, so a frame value is v 2^-45 = u 2^(e - 45), and 2X has one more factor 2).
bool frame_power(const IntLogMel& fe, const std::int16_t* pcm, int n, int t, std::int32_t* z, std::uint64_t* power,
                 int& exponent) {
  const int N = fe.n_fft, M = N / 2;
  // Sample i of the frame, reflect-padded by n_fft / 2 as log_mel, times the Q30 window: |v| < 2^45.
  const auto windowed = [&](int i) {
    int j = t * fe.hop + i - M;
    if (j < 0) j = -j;
    if (j >= n) j = 2 * (n - 1) - j;
    return std::int64_t(pcm[j]) * std::int64_t(fe.window[size_t(i)]);
  };
  std::uint64_t max_abs = 0;
  for (int i = 0; i < N; ++i) {
    const std::int64_t v = windowed(i);
    const std::uint64_t a = v < 0 ? 0u - std::uint64_t(v) : std::uint64_t(v);
    if (a > max_abs) max_abs = a;
  }
  if (max_abs == 0) return false;
  // Block exponent: |u| <= 2^T keeps every stage's values below sqrt(2) M 2^T = 2^29.5 (a stage of
  // length L sums L points of modulus <= sqrt(2) 2^T) and the doubled bins, in int64, below
  // 2N 2^T = 2^31, so their power fits uint64.
  const int e = bit_length(max_abs) - fe.frame_headroom_bits;
  for (int i = 0; i < N; ++i) {
    const std::int64_t v = windowed(i);
    z[i] = e > 0 ? std::int32_t(asr64(v + (std::int64_t(1) << (e - 1)), e)) : std::int32_t(v * (std::int64_t(1) << -e));
  }
  complex_fft(fe, z);
  for (int k = 0; k <= M; ++k) {
    std::int64_t re = 0, im = 0;
    split_bin(fe, z, k, re, im);
    power[k] = std::uint64_t(re * re) + std::uint64_t(im * im);
  }
  exponent = e;
  return true;
}

// The Q16 dB of every band of one frame into db (n_mels).
void frame_db(const IntLogMel& fe, bool nonzero, int e, const std::uint64_t* power, std::int32_t* db) {
  const int M = fe.n_fft / 2;
  std::uint64_t power_max = 0;
  if (nonzero)
    for (int k = 0; k <= M; ++k) power_max = std::max(power_max, power[k]);
  if (power_max == 0) {
    std::fill(db, db + fe.n_mels, fe.floor_db_q16);
    return;
  }
  for (int b = 0; b < fe.n_mels; ++b) {
    std::uint64_t acc = 0, band_max = 0;
    const int start = fe.band_start[size_t(b)], length = fe.band_length[size_t(b)], offset = fe.band_offset[size_t(b)];
    // A block exponent per band: each term below 2^(63 - guard), the band's sum below 2^63, and the
    // band keeps 63 - guard bits below its own largest bin (one exponent per frame would leave a
    // band 120 dB under a loud tone only a few bits).
    for (int j = 0; j < length; ++j) band_max = std::max(band_max, power[start + j]);
    int s = bit_length(band_max) + fe.mel_guard_bits - 63;
    if (s < 0) s = 0;
    for (int j = 0; j < length; ++j) {
      std::uint64_t p = power[start + j];
      if (s > 0) p = (p + (std::uint64_t(1) << (s - 1))) >> s;
      acc += p * std::uint64_t(fe.band_weights[size_t(offset + j)]);
    }
    if (acc == 0) {
      db[b] = fe.floor_db_q16;
      continue;
    }
    const int top = bit_length(acc) - 1;  // acc in [2^top, 2^(top+1))
    const std::uint32_t mantissa = top >= 16 ? std::uint32_t(acc >> (top - 16)) : std::uint32_t(acc << (16 - top));
    const std::uint32_t i = (mantissa >> 8) & 255u, f = mantissa & 255u;
    const std::int32_t log_mantissa =
        fe.log_table[i] + std::int32_t(((std::uint32_t(fe.log_table[i + 1] - fe.log_table[i])) * f + 128u) >> 8);
    // true mel power = acc 2^s 2^(2e - 92) w_max / 32767
    const std::int32_t octaves = top + s + 2 * e - 92;
    std::int32_t v = octaves * fe.db_per_octave_q16 + log_mantissa + fe.band_db_offset[size_t(b)];
    if (v < fe.floor_db_q16) v = fe.floor_db_q16;
    db[b] = v;
  }
}

}  // namespace

IntLogMel make_int_log_mel(const datasets::LogMelConfig& c) {
  datasets::validate(c);
  if (c.n_fft & (c.n_fft - 1))
    throw std::invalid_argument("log-mel: n_fft " + std::to_string(c.n_fft) +
                                ": the integer front end needs a power of two (its FFT is radix 2)");
  IntLogMel fe;
  fe.n_fft = c.n_fft;
  fe.hop = c.hop;
  fe.n_mels = c.n_mels;
  fe.floor = c.floor;
  const int M = c.n_fft / 2;
  while ((1 << fe.log2_half) < M) ++fe.log2_half;
  fe.frame_headroom_bits = 29 - fe.log2_half;
  const double pi = std::numbers::pi;
  for (int i = 0; i < c.n_fft; ++i)
    fe.window.push_back(std::int32_t(std::llround(1073741824.0 * (0.5 - 0.5 * std::cos(2 * pi * i / c.n_fft)))));
  for (int k = 0; k < M; ++k) {
    fe.cos_q30.push_back(std::int32_t(std::llround(1073741824.0 * std::cos(2 * pi * k / c.n_fft))));
    fe.sin_q30.push_back(std::int32_t(std::llround(1073741824.0 * std::sin(2 * pi * k / c.n_fft))));
    int r = 0;
    for (int bit = 0; bit < fe.log2_half; ++bit) r |= ((k >> bit) & 1) << (fe.log2_half - 1 - bit);
    fe.bit_reverse.push_back(std::uint16_t(r));
  }
  const std::vector<float> fb = datasets::mel_filterbank(c);  // (n_freqs, n_mels)
  const int n_freqs = M + 1;
  int longest = 0;
  for (int b = 0; b < c.n_mels; ++b) {
    int first = -1, last = -1;
    double w_max = 0;
    for (int f = 0; f < n_freqs; ++f) {
      const double w = fb[size_t(f) * size_t(c.n_mels) + size_t(b)];
      if (w > 0) {
        if (first < 0) first = f;
        last = f;
        w_max = std::max(w_max, w);
      }
    }
    fe.band_offset.push_back(std::int32_t(fe.band_weights.size()));
    if (first < 0) {  // an empty filter (torchaudio warns of them): its band is always at the floor
      fe.band_start.push_back(0);
      fe.band_length.push_back(0);
      fe.band_db_offset.push_back(0);
      continue;
    }
    fe.band_start.push_back(first);
    fe.band_length.push_back(last - first + 1);
    longest = std::max(longest, last - first + 1);
    for (int f = first; f <= last; ++f)
      fe.band_weights.push_back(std::int16_t(std::lround(32767.0 * fb[size_t(f) * size_t(c.n_mels) + size_t(b)] / w_max)));
    fe.band_db_offset.push_back(std::int32_t(std::lround(65536.0 * 10.0 * std::log10(w_max / 32767.0))));
  }
  int length_bits = 0;
  while ((1 << length_bits) < longest) ++length_bits;
  fe.mel_guard_bits = 15 + length_bits;
  for (int i = 0; i <= 256; ++i) fe.log_table.push_back(std::int32_t(std::lround(65536.0 * 10.0 * std::log10(1.0 + i / 256.0))));
  fe.db_per_octave_q16 = std::int32_t(std::lround(65536.0 * 10.0 * std::log10(2.0)));
  fe.floor_db_q16 = std::int32_t(std::lround(65536.0 * 10.0 * std::log10(c.floor)));
  return fe;
}

InputQuantization make_input_quantization(const std::vector<float>& mean, const std::vector<float>& std,
                                          const ActivationQuant& quant) {
  if (mean.size() != std.size() || mean.empty())
    throw std::invalid_argument("input.json: mean has " + std::to_string(mean.size()) + " values and std " +
                                std::to_string(std.size()) + ", expected one per mel band each");
  InputQuantization iq;
  iq.quant = quant;
  for (size_t b = 0; b < mean.size(); ++b) {
    if (!(std[b] > 0) || !std::isfinite(mean[b]))
      throw std::invalid_argument("input.json: band " + std::to_string(b) + " has mean " + std::to_string(mean[b]) +
                                  " and std " + std::to_string(std[b]) + ", expected a finite mean and a positive std");
    iq.mean_q16.push_back(std::int32_t(std::lround(65536.0 * mean[b])));
    const QuantizedMultiplier m = quantize_multiplier(1.0 / (65536.0 * double(std[b]) * quant.scale));
    iq.mult.push_back(m.multiplier);
    iq.shift.push_back(m.shift);
  }
  return iq;
}

std::vector<std::int32_t> int_log_mel_db(const IntLogMel& fe, const std::int16_t* pcm, int n) {
  if (n <= fe.n_fft / 2)
    throw std::invalid_argument("log-mel: " + std::to_string(n) + " samples, fewer than the " + std::to_string(fe.n_fft / 2 + 1) +
                                " that reflect padding by n_fft / 2 needs");
  const int frames = 1 + n / fe.hop;
  std::vector<std::int32_t> z(size_t(fe.n_fft)), db(size_t(fe.n_mels)), out(size_t(fe.n_mels) * size_t(frames));
  std::vector<std::uint64_t> power(size_t(fe.n_fft / 2 + 1));
  for (int t = 0; t < frames; ++t) {
    int e = 0;
    const bool nonzero = frame_power(fe, pcm, n, t, z.data(), power.data(), e);
    frame_db(fe, nonzero, e, power.data(), db.data());
    for (int b = 0; b < fe.n_mels; ++b) out[size_t(b) * size_t(frames) + size_t(t)] = db[size_t(b)];
  }
  return out;
}

void int_log_mel_input(const IntLogMel& fe, const InputQuantization& iq, const std::int16_t* pcm, int n, std::int8_t* out,
                       int row_stride) {
  if (n <= fe.n_fft / 2)
    throw std::invalid_argument("log-mel: " + std::to_string(n) + " samples, fewer than n_fft / 2 + 1");
  const int frames = 1 + n / fe.hop;
  std::vector<std::int32_t> z(size_t(fe.n_fft)), db(size_t(fe.n_mels));
  std::vector<std::uint64_t> power(size_t(fe.n_fft / 2 + 1));
  for (int t = 0; t < frames; ++t) {
    int e = 0;
    const bool nonzero = frame_power(fe, pcm, n, t, z.data(), power.data(), e);
    frame_db(fe, nonzero, e, power.data(), db.data());
    for (int b = 0; b < fe.n_mels; ++b) {
      std::int32_t v = iq.quant.zero_point +
                       multiply_by_quantized_multiplier(db[size_t(b)] - iq.mean_q16[size_t(b)], {iq.mult[size_t(b)], int(iq.shift[size_t(b)])});
      if (v > 127) v = 127;
      if (v < -128) v = -128;
      out[size_t(b) * size_t(row_stride) + size_t(t)] = std::int8_t(v);
    }
  }
}

void int_real_fft_doubled(const IntLogMel& fe, const std::int32_t* x, std::int64_t* re, std::int64_t* im) {
  std::vector<std::int32_t> z(x, x + fe.n_fft);
  complex_fft(fe, z.data());
  for (int k = 0; k <= fe.n_fft / 2; ++k) split_bin(fe, z.data(), k, re[k], im[k]);
}

namespace {

// The C of the functions above, statement for statement. Uses @p_rdbpot and @p_mbqm (the integer
// arithmetic of quantize.cpp, emitted before this text).
const char* kLogMelC = R"C(/* Bit length of x: 0 for 0, else 1 + the index of its leading one. */
static int @p_bit_length(uint64_t x) {
  int n = 0;
  if (x >> 32) { x >>= 32; n += 32; }
  if (x >> 16) { x >>= 16; n += 16; }
  if (x >> 8) { x >>= 8; n += 8; }
  if (x >> 4) { x >>= 4; n += 4; }
  if (x >> 2) { x >>= 2; n += 2; }
  if (x >> 1) { x >>= 1; n += 1; }
  return n + (int)x;
}

/* round(x / 2^30), ties towards +infinity, without >> of a negative value. */
static int32_t @p_round_q30(int64_t x) {
  x += (int64_t)1 << 29;
  return (int32_t)(x >= 0 ? (x >> 30) : ~(~x >> 30));
}

/* In place on n_fft / 2 complex points (re, im interleaved): bit reversal, radix-2 decimation in time. */
static void @p_complex_fft(int32_t *z) {
  int k, len, s, j;
  for (k = 0; k < @P_FE_HALF; ++k) {
    const int r = (int)@p_fe_bit_reverse[k];
    if (r > k) {
      int32_t tmp = z[2 * k];
      z[2 * k] = z[2 * r];
      z[2 * r] = tmp;
      tmp = z[2 * k + 1];
      z[2 * k + 1] = z[2 * r + 1];
      z[2 * r + 1] = tmp;
    }
  }
  for (len = 2; len <= @P_FE_HALF; len <<= 1) {
    const int half_len = len / 2, step = @P_FE_N_FFT / len;
    for (s = 0; s < @P_FE_HALF; s += len)
      for (j = 0; j < half_len; ++j) {
        const int64_t c = @p_fe_cos_q30[j * step], sn = @p_fe_sin_q30[j * step];
        const int a = s + j, b = a + half_len;
        const int64_t br = z[2 * b], bi = z[2 * b + 1];
        const int32_t tr = @p_round_q30(br * c + bi * sn), ti = @p_round_q30(bi * c - br * sn);
        const int32_t ar = z[2 * a], ai = z[2 * a + 1];
        z[2 * b] = ar - tr;
        z[2 * b + 1] = ai - ti;
        z[2 * a] = ar + tr;
        z[2 * a + 1] = ai + ti;
      }
  }
}

/* Sample i of frame t, reflect-padded by n_fft / 2, times the Q30 window: |v| < 2^45. */
static int64_t @p_windowed(const int16_t *pcm, int n, int t, int i) {
  int j = t * @P_FE_HOP + i - @P_FE_HALF;
  if (j < 0) j = -j;
  if (j >= n) j = 2 * (n - 1) - j;
  return (int64_t)pcm[j] * (int64_t)@p_fe_window[i];
}

/* Frame t's doubled-DFT power into m->power; 0 for a frame of zeros, else 1 with *exponent = e
   (true power = power 2^(2e - 92)). */
static int @p_frame_power(@p_scratch *m, const int16_t *pcm, int n, int t, int *exponent) {
  int32_t *z = m->fft;
  uint64_t max_abs = 0;
  int i, e, k;
  for (i = 0; i < @P_FE_N_FFT; ++i) {
    const int64_t v = @p_windowed(pcm, n, t, i);
    const uint64_t a = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
    if (a > max_abs) max_abs = a;
  }
  if (max_abs == 0) return 0;
  e = @p_bit_length(max_abs) - @P_FE_HEADROOM_BITS;
  for (i = 0; i < @P_FE_N_FFT; ++i) {
    const int64_t v = @p_windowed(pcm, n, t, i) + (e > 0 ? ((int64_t)1 << (e - 1)) : 0);
    z[i] = e > 0 ? (int32_t)(v >= 0 ? (v >> e) : ~(~v >> e)) : (int32_t)(v * ((int64_t)1 << -e));
  }
  @p_complex_fft(z);
  for (k = 0; k <= @P_FE_HALF; ++k) {
    const int ka = k % @P_FE_HALF, kb = (@P_FE_HALF - k) % @P_FE_HALF;
    const int64_t ar = z[2 * ka], ai = z[2 * ka + 1], br = z[2 * kb], bi = -(int64_t)z[2 * kb + 1];
    const int64_t er = ar + br, ei = ai + bi, orr = ai - bi, oi = br - ar;
    const int64_t c = k < @P_FE_HALF ? (int64_t)@p_fe_cos_q30[k] : -((int64_t)1 << 30);
    const int64_t sn = k < @P_FE_HALF ? (int64_t)@p_fe_sin_q30[k] : 0;
    const int64_t re = er + @p_round_q30(orr * c + oi * sn), im = ei + @p_round_q30(oi * c - orr * sn);
    m->power[k] = (uint64_t)(re * re) + (uint64_t)(im * im);
  }
  *exponent = e;
  return 1;
}

/* The Q16 dB of every band of the frame in m->power into m->db. */
static void @p_frame_db(@p_scratch *m, int nonzero, int e) {
  uint64_t power_max = 0;
  int k, b, j, s;
  if (nonzero)
    for (k = 0; k <= @P_FE_HALF; ++k)
      if (m->power[k] > power_max) power_max = m->power[k];
  if (power_max == 0) {
    for (b = 0; b < @P_FE_MELS; ++b) m->db[b] = @P_FE_FLOOR_DB_Q16;
    return;
  }
  for (b = 0; b < @P_FE_MELS; ++b) {
    uint64_t acc = 0, band_max = 0;
    const int start = (int)@p_fe_band_start[b], length = (int)@p_fe_band_length[b], offset = (int)@p_fe_band_offset[b];
    int top;
    uint32_t mantissa, i, f;
    int32_t log_mantissa, octaves, v;
    for (j = 0; j < length; ++j)
      if (m->power[start + j] > band_max) band_max = m->power[start + j];
    s = @p_bit_length(band_max) + @P_FE_GUARD_BITS - 63;
    if (s < 0) s = 0;
    for (j = 0; j < length; ++j) {
      uint64_t p = m->power[start + j];
      if (s > 0) p = (p + ((uint64_t)1 << (s - 1))) >> s;
      acc += p * (uint64_t)@p_fe_band_weights[offset + j];
    }
    if (acc == 0) {
      m->db[b] = @P_FE_FLOOR_DB_Q16;
      continue;
    }
    top = @p_bit_length(acc) - 1;
    mantissa = top >= 16 ? (uint32_t)(acc >> (top - 16)) : (uint32_t)(acc << (16 - top));
    i = (mantissa >> 8) & 255u;
    f = mantissa & 255u;
    log_mantissa = @p_fe_log_table[i] + (int32_t)((((uint32_t)(@p_fe_log_table[i + 1] - @p_fe_log_table[i])) * f + 128u) >> 8);
    octaves = top + s + 2 * e - 92;
    v = octaves * @P_FE_DB_PER_OCTAVE_Q16 + log_mantissa + @p_fe_band_db_offset[b];
    if (v < @P_FE_FLOOR_DB_Q16) v = @P_FE_FLOOR_DB_Q16;
    m->db[b] = v;
  }
}

/* The network input of n samples: out[b * row_stride + t], (dB - mean_b) / std_b quantised to int8. */
static void @p_log_mel_input(@p_scratch *m, const int16_t *pcm, int n, int8_t *out, int row_stride) {
  const int frames = 1 + n / @P_FE_HOP;
  int t, b;
  for (t = 0; t < frames; ++t) {
    int e = 0;
    const int nonzero = @p_frame_power(m, pcm, n, t, &e);
    @p_frame_db(m, nonzero, e);
    for (b = 0; b < @P_FE_MELS; ++b) {
      int32_t v = @P_MODEL_INPUT_ZERO_POINT + @p_mbqm(m->db[b] - @p_fe_mean_q16[b], @p_fe_mult[b], @p_fe_shift[b]);
      if (v > 127) v = 127;
      if (v < -128) v = -128;
      out[b * row_stride + t] = (int8_t)v;
    }
  }
}

)C";

// Slots (locals + parameters) per function of kLogMelC, counted by hand from the text above.
constexpr int kLogMelSlots[] = {
    1 + 1,           // bit_length
    1,               // round_q30
    4 + 1,           // windowed: params; j
    1 + 4 + 1 + 2 + 4 + 2 + 2 + 2 + 1,  // complex_fft: z; k len s j; r tmp; half_len step; c sn; a b; br bi; tr ti; ar ai
    5 + 4 + 2 + 1 + 2 + 4 + 4 + 2 + 2,  // frame_power: params; z max_abs i e k; v a; v; ka kb; ar ai br bi; er ei orr oi; c sn; re im
    3 + 5 + 5 + 4 + 4,                  // frame_db: params; power_max k b j s; acc band_max start length offset; top mantissa i f; log_mantissa octaves v p
    5 + 3 + 2 + 1,                      // log_mel_input: params; frames t b; e nonzero; v
};

}  // namespace

const char* log_mel_c() { return kLogMelC; }
int log_mel_c_functions() { return int(sizeof(kLogMelSlots) / sizeof(kLogMelSlots[0])); }
int log_mel_c_slots() {
  int n = 0;
  for (int s : kLogMelSlots) n += s;
  return n;
}

}  // namespace torus::train::exportq
