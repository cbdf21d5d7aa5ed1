#include "train/export/audio_net.hpp"

#include "train/export/conv3x3_loops.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

namespace torus::train::exportq {

namespace {

std::vector<float> named(const std::map<std::string, const Tensor<float>*>& values, const std::string& name, int64_t numel) {
  const auto it = values.find(name);
  if (it == values.end()) throw std::invalid_argument("torus-export: the audio CNN has no parameter or buffer " + name);
  if (it->second->numel() != numel)
    throw std::invalid_argument("torus-export: " + name + " has " + std::to_string(it->second->numel()) + " values, expected " +
                                std::to_string(numel));
  return std::vector<float>(it->second->data(), it->second->data() + numel);
}

// Index of (c, y, x) in a padded buffer (C, H+2, T+2).
inline size_t padded(int c, int y, int x, int H, int T) { return (size_t(c) * size_t(H + 2) + size_t(y + 1)) * size_t(T + 2) + size_t(x + 1); }

}  // namespace

void validate(const AudioCnnShape& s) {
  if (s.width < 1 || s.dim < 2 || s.dim % 2 || s.hidden < 1)
    throw std::invalid_argument("torus-export: audio CNN width " + std::to_string(s.width) + ", D " + std::to_string(s.dim) +
                                ", hidden " + std::to_string(s.hidden) + ": expected width >= 1, an even D >= 2, hidden >= 1");
  if ((s.n_mels >> kAudioBlocks) < 1 || (s.frames >> kAudioBlocks) < 1)
    throw std::invalid_argument("torus-export: input (1, " + std::to_string(s.n_mels) + ", " + std::to_string(s.frames) +
                                "): the audio CNN's four 2x2 poolings need at least 16 mel bands and 16 frames");
}

AudioCnnWeights audio_cnn_weights(nn::Module<float>& net, int n_mels, int frames, int width, int dim) {
  std::map<std::string, const Tensor<float>*> values;
  for (const auto& [n, p] : net.parameters()) values[n] = &p->value;
  for (const auto& [n, b] : net.buffers()) values[n] = b;
  AudioCnnWeights w;
  const auto fc1 = values.find("head.fc1.weight");
  if (fc1 == values.end()) throw std::invalid_argument("torus-export: the audio CNN has no head.fc1.weight (no embedding head?)");
  w.shape = {n_mels, frames, width, dim, int(fc1->second->numel() / (int64_t(8) * width))};
  validate(w.shape);
  for (int l = 0; l < kAudioConvs; ++l) {
    const int block = l / 2, layer = l % 2;
    const int in = layer ? w.shape.channels(block) : w.shape.in_channels(block), out = w.shape.channels(block);
    // make_audio_cnn's backbone: per block [conv, bn, relu] x 2, max pool: 7 modules
    const std::string conv = "backbone." + std::to_string(block * 7 + layer * 3), bn = "backbone." + std::to_string(block * 7 + layer * 3 + 1);
    const std::vector<float> cw = named(values, conv + ".weight", int64_t(out) * in * 9);
    const std::vector<float> gamma = named(values, bn + ".weight", out), beta = named(values, bn + ".bias", out);
    const std::vector<float> mean = named(values, bn + ".running_mean", out), var = named(values, bn + ".running_var", out);
    FoldedConv& f = w.conv[size_t(l)];
    f.in_channels = in;
    f.out_channels = out;
    f.w.resize(cw.size());
    for (int o = 0; o < out; ++o) {
      const double a = double(gamma[size_t(o)]) / std::sqrt(double(var[size_t(o)]) + kBatchNormEps);
      for (int j = 0; j < in * 9; ++j) f.w[size_t(o) * in * 9 + j] = float(a * cw[size_t(o) * in * 9 + j]);
      f.b.push_back(float(double(beta[size_t(o)]) - a * double(mean[size_t(o)])));
    }
  }
  const int features = 8 * width;
  w.fc1_w = named(values, "head.fc1.weight", int64_t(w.shape.hidden) * features);
  w.fc1_b = named(values, "head.fc1.bias", w.shape.hidden);
  w.fc2_w = named(values, "head.fc2.weight", int64_t(dim) * w.shape.hidden);
  w.fc2_b = named(values, "head.fc2.bias", dim);
  return w;
}

void AudioRanges::merge(const AudioRanges& o) {
  input_lo = std::min(input_lo, o.input_lo);
  input_hi = std::max(input_hi, o.input_hi);
  for (int l = 0; l < kAudioConvs; ++l) conv[size_t(l)] = std::max(conv[size_t(l)], o.conv[size_t(l)]);
  gap = std::max(gap, o.gap);
  fc1 = std::max(fc1, o.fc1);
}

AudioBuffers audio_buffers(const AudioCnnShape& s) {
  AudioBuffers b;
  for (int block = 0; block < kAudioBlocks; ++block) {
    const std::size_t plane = std::size_t(s.height(block) + 2) * std::size_t(s.time(block) + 2);
    b.input = std::max(b.input, std::size_t(s.in_channels(block)) * plane);
    b.middle = std::max(b.middle, std::size_t(s.channels(block)) * plane);
  }
  b.accumulators = std::size_t(s.n_mels) * std::size_t(s.frames);
  return b;
}

void audio_float_forward(const AudioCnnWeights& w, const float* x, float* h, AudioRanges* ranges) {
  const AudioCnnShape& s = w.shape;
  const AudioBuffers sizes = audio_buffers(s);
  std::vector<float> input(sizes.input, 0.0f), middle(sizes.middle, 0.0f), acc(sizes.accumulators);
  std::vector<float> gap(size_t(8 * s.width)), fc1(size_t(s.hidden));
  AudioRanges r;
  r.input_lo = r.input_hi = x[0];
  for (int y = 0; y < s.n_mels; ++y)
    for (int t = 0; t < s.frames; ++t) {
      const float v = x[size_t(y) * s.frames + t];
      input[padded(0, y, t, s.n_mels, s.frames)] = v;
      r.input_lo = std::min(r.input_lo, double(v));
      r.input_hi = std::max(r.input_hi, double(v));
    }
  for (int block = 0; block < kAudioBlocks; ++block) {
    const int H = s.height(block), T = s.time(block), C = s.channels(block);
    const FoldedConv& c0 = w.conv[size_t(2 * block)];
    const FoldedConv& c1 = w.conv[size_t(2 * block + 1)];
    std::fill(middle.begin(), middle.end(), 0.0f);
    for (int o = 0; o < C; ++o) {
      conv3x3_channel<float>(acc.data(), input.data(), &c0.w[size_t(o) * c0.in_channels * 9], c0.b[size_t(o)], c0.in_channels, H, T);
      for (int y = 0; y < H; ++y)
        for (int t = 0; t < T; ++t) {
          const float v = std::max(0.0f, acc[size_t(y) * T + t]);
          r.conv[size_t(2 * block)] = std::max(r.conv[size_t(2 * block)], double(v));
          middle[padded(o, y, t, H, T)] = v;
        }
    }
    const int Hp = H / 2, Tp = T / 2;
    std::fill(input.begin(), input.end(), 0.0f);
    for (int o = 0; o < C; ++o) {
      conv3x3_channel<float>(acc.data(), middle.data(), &c1.w[size_t(o) * C * 9], c1.b[size_t(o)], C, H, T);
      double sum = 0;
      for (int py = 0; py < Hp; ++py)
        for (int px = 0; px < Tp; ++px) {
          const float v = std::max(0.0f, max_pool_2x2(acc.data(), T, py, px));
          r.conv[size_t(2 * block + 1)] = std::max(r.conv[size_t(2 * block + 1)], double(v));
          if (block + 1 < kAudioBlocks) input[padded(o, py, px, Hp, Tp)] = v;
          else sum += v;
        }
      if (block + 1 == kAudioBlocks) {
        gap[size_t(o)] = float(sum / (Hp * Tp));
        r.gap = std::max(r.gap, double(gap[size_t(o)]));
      }
    }
  }
  const int F = 8 * s.width;
  for (int j = 0; j < s.hidden; ++j) {
    float v = w.fc1_b[size_t(j)];
    for (int i = 0; i < F; ++i) v += w.fc1_w[size_t(j) * F + i] * gap[size_t(i)];
    fc1[size_t(j)] = std::max(0.0f, v);
    r.fc1 = std::max(r.fc1, double(fc1[size_t(j)]));
  }
  for (int d = 0; d < s.dim; ++d) {
    float v = w.fc2_b[size_t(d)];
    for (int i = 0; i < s.hidden; ++i) v += w.fc2_w[size_t(d) * s.hidden + i] * fc1[size_t(i)];
    h[d] = v;
  }
  if (ranges) ranges->merge(r);
}

Int8AudioCnn quantize_audio_cnn(const AudioCnnWeights& w, const AudioRanges& ranges) {
  validate(w.shape);
  Int8AudioCnn n;
  n.shape = w.shape;
  n.input = choose_activation_quant(ranges.input_lo, ranges.input_hi);
  ActivationQuant in = n.input;
  for (int l = 0; l < kAudioConvs; ++l) {
    const FoldedConv& f = w.conv[size_t(l)];
    Int8Conv& q = n.conv[size_t(l)];
    q.in_channels = f.in_channels;
    q.out_channels = f.out_channels;
    q.act = choose_activation_quant(0.0, ranges.conv[size_t(l)]);
    const int fan_in = f.in_channels * 9;
    const QuantizedWeights qw = quantize_weights_per_channel(f.w.data(), f.out_channels, fan_in);
    q.w = qw.values;
    for (int o = 0; o < f.out_channels; ++o) {
      const double acc_scale = in.scale * qw.scales[size_t(o)];
      q.b.push_back(fold_zero_point(quantize_bias(f.b[size_t(o)], acc_scale), in.zero_point, &q.w[size_t(o) * fan_in], fan_in));
      const QuantizedMultiplier m = quantize_multiplier(acc_scale / q.act.scale);
      q.mult.push_back(m.multiplier);
      q.shift.push_back(m.shift);
    }
    in = q.act;
  }
  const int H4 = w.shape.height(kAudioBlocks), T4 = w.shape.time(kAudioBlocks), F = 8 * w.shape.width;
  n.gap = choose_activation_quant(0.0, ranges.gap);
  const QuantizedMultiplier gm = quantize_multiplier(in.scale / (double(H4) * T4 * n.gap.scale));
  n.gap_mult = gm.multiplier;
  n.gap_shift = gm.shift;
  n.fc1_act = choose_activation_quant(0.0, ranges.fc1);
  const QuantizedWeights q1 = quantize_weights_per_channel(w.fc1_w.data(), w.shape.hidden, F);
  n.fc1_w = q1.values;
  for (int j = 0; j < w.shape.hidden; ++j) {
    const double acc_scale = n.gap.scale * q1.scales[size_t(j)];
    n.fc1_b.push_back(fold_zero_point(quantize_bias(w.fc1_b[size_t(j)], acc_scale), n.gap.zero_point, &q1.values[size_t(j) * F], F));
    const QuantizedMultiplier m = quantize_multiplier(acc_scale / n.fc1_act.scale);
    n.fc1_mult.push_back(m.multiplier);
    n.fc1_shift.push_back(m.shift);
  }
  // One weight scale per torusN pair: both coordinates in the same units, so the int32
  // accumulators go to atan2 directly.
  const QuantizedWeights q2 = quantize_weights_per_channel(w.fc2_w.data(), w.shape.dim, w.shape.hidden, 2);
  n.fc2_w = q2.values;
  for (int d = 0; d < w.shape.dim; ++d) {
    const double acc_scale = n.fc1_act.scale * q2.scales[size_t(d)];
    n.fc2_b.push_back(fold_zero_point(quantize_bias(w.fc2_b[size_t(d)], acc_scale), n.fc1_act.zero_point,
                                      &q2.values[size_t(d) * w.shape.hidden], w.shape.hidden));
    n.fc2_scale.push_back(acc_scale);
  }
  return n;
}

void audio_int8_forward(const Int8AudioCnn& n, const std::int8_t* x, std::int32_t* h, std::uint8_t* codes) {
  const AudioCnnShape& s = n.shape;
  const AudioBuffers sizes = audio_buffers(s);
  std::vector<std::int8_t> input(sizes.input), middle(sizes.middle), gap(size_t(8 * s.width)), fc1(size_t(s.hidden));
  std::vector<std::int32_t> acc(sizes.accumulators);
  std::fill(input.begin(), input.end(), std::int8_t(n.input.zero_point));
  for (int y = 0; y < s.n_mels; ++y)
    std::copy_n(x + size_t(y) * s.frames, s.frames, input.begin() + std::ptrdiff_t(padded(0, y, 0, s.n_mels, s.frames)));
  for (int block = 0; block < kAudioBlocks; ++block) {
    const int H = s.height(block), T = s.time(block), C = s.channels(block);
    const Int8Conv& c0 = n.conv[size_t(2 * block)];
    const Int8Conv& c1 = n.conv[size_t(2 * block + 1)];
    std::fill(middle.begin(), middle.end(), std::int8_t(c0.act.zero_point));
    for (int o = 0; o < C; ++o) {
      conv3x3_channel<std::int32_t>(acc.data(), input.data(), &c0.w[size_t(o) * c0.in_channels * 9], c0.b[size_t(o)], c0.in_channels, H, T);
      for (int y = 0; y < H; ++y)
        for (int t = 0; t < T; ++t)
          middle[padded(o, y, t, H, T)] = requantize_relu(acc[size_t(y) * T + t], {c0.mult[size_t(o)], int(c0.shift[size_t(o)])}, c0.act.zero_point);
    }
    const int Hp = H / 2, Tp = T / 2;
    std::fill(input.begin(), input.end(), std::int8_t(c1.act.zero_point));
    for (int o = 0; o < C; ++o) {
      conv3x3_channel<std::int32_t>(acc.data(), middle.data(), &c1.w[size_t(o) * C * 9], c1.b[size_t(o)], C, H, T);
      std::int32_t sum = 0;
      for (int py = 0; py < Hp; ++py)
        for (int px = 0; px < Tp; ++px) {
          const std::int8_t v = requantize_relu(max_pool_2x2(acc.data(), T, py, px), {c1.mult[size_t(o)], int(c1.shift[size_t(o)])}, c1.act.zero_point);
          if (block + 1 < kAudioBlocks) input[padded(o, py, px, Hp, Tp)] = v;
          else sum += std::int32_t(v) - c1.act.zero_point;
        }
      if (block + 1 == kAudioBlocks) gap[size_t(o)] = requantize_relu(sum, {n.gap_mult, int(n.gap_shift)}, n.gap.zero_point);
    }
  }
  const int F = 8 * s.width;
  for (int j = 0; j < s.hidden; ++j) {
    std::int32_t v = n.fc1_b[size_t(j)];
    for (int i = 0; i < F; ++i) v += std::int32_t(n.fc1_w[size_t(j) * F + i]) * std::int32_t(gap[size_t(i)]);
    fc1[size_t(j)] = requantize_relu(v, {n.fc1_mult[size_t(j)], int(n.fc1_shift[size_t(j)])}, n.fc1_act.zero_point);
  }
  for (int d = 0; d < s.dim; ++d) {
    std::int32_t v = n.fc2_b[size_t(d)];
    for (int i = 0; i < s.hidden; ++i) v += std::int32_t(n.fc2_w[size_t(d) * s.hidden + i]) * std::int32_t(fc1[size_t(i)]);
    h[d] = v;
  }
  for (int k = 0; k < s.dim / 2; ++k) codes[k] = integer_atan2_code(h[2 * k + 1], h[2 * k]);
}

}  // namespace torus::train::exportq
