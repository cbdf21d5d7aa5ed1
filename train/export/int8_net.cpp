#include "train/export/int8_net.hpp"

#include "train/export/conv3x3_loops.hpp"

#include "geometry/uint8_codes.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace torus::train::exportq {

namespace {

std::vector<float> parameter(nn::FmnistConvNet<float>& net, const std::string& name, int64_t numel) {
  for (const auto& [n, p] : net.parameters())
    if (n == name) {
      if (p->value.numel() != numel)
        throw std::invalid_argument("torus-export: parameter " + name + " has " + std::to_string(p->value.numel()) +
                                    " values, expected " + std::to_string(numel));
      return std::vector<float>(p->value.data(), p->value.data() + numel);
    }
  throw std::invalid_argument("torus-export: the network has no parameter " + name);
}

std::int8_t requantize_relu(std::int32_t acc, std::int32_t mult, std::int32_t shift, std::int32_t zero_point) {
  return exportq::requantize_relu(acc, {mult, int(shift)}, zero_point);
}

void quantize_requant(double real, std::vector<std::int32_t>& mult, std::vector<std::int32_t>& shift) {
  const QuantizedMultiplier q = quantize_multiplier(real);
  mult.push_back(q.multiplier);
  shift.push_back(q.shift);
}

}  // namespace

ConvNetWeights convnet_weights(nn::FmnistConvNet<float>& net) {
  ConvNetWeights w;
  w.dim = int(net.head_config().dim);
  w.conv1_w = parameter(net, "conv1.weight", kC1 * 9);
  w.conv1_b = parameter(net, "conv1.bias", kC1);
  w.conv2_w = parameter(net, "conv2.weight", kC2 * kC1 * 9);
  w.conv2_b = parameter(net, "conv2.bias", kC2);
  w.fc1_w = parameter(net, "head.fc1.weight", kHidden * kFlat);
  w.fc1_b = parameter(net, "head.fc1.bias", kHidden);
  w.fc2_w = parameter(net, "head.fc2.weight", int64_t(w.dim) * kHidden);
  w.fc2_b = parameter(net, "head.fc2.bias", w.dim);
  return w;
}

void ActivationRanges::merge(const ActivationRanges& o) {
  act1 = std::max(act1, o.act1);
  act2 = std::max(act2, o.act2);
  act3 = std::max(act3, o.act3);
}

void float_forward(const ConvNetWeights& w, const InputNormalization& norm, const std::uint8_t* pixels, float* h,
                   ActivationRanges* ranges) {
  std::array<float, 30 * 30> pad0{};                 // (1, 30, 30), border 0 = the padding of the normalised input
  std::array<float, kC1 * 16 * 16> pad1{};           // (32, 16, 16)
  std::array<float, kFlat> act2{};                   // (64, 7, 7)
  std::array<float, kHidden> act3{};                 // (128)
  std::array<float, kSide * kSide> acc{};            // one conv channel
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x)
      pad0[size_t((y + 1) * 30 + x + 1)] = float((pixels[y * kSide + x] / 255.0 - norm.mean) / norm.std);
  ActivationRanges r;
  for (int o = 0; o < kC1; ++o) {
    conv3x3_channel<float>(acc.data(), pad0.data(), &w.conv1_w[size_t(o) * 9], w.conv1_b[size_t(o)], 1, kSide, kSide);
    for (int py = 0; py < kS1; ++py)
      for (int px = 0; px < kS1; ++px) {
        const float v = std::max(0.0f, max_pool_2x2(acc.data(), kSide, py, px));
        r.act1 = std::max(r.act1, double(v));
        pad1[size_t((o * 16 + py + 1) * 16 + px + 1)] = v;
      }
  }
  for (int o = 0; o < kC2; ++o) {
    conv3x3_channel<float>(acc.data(), pad1.data(), &w.conv2_w[size_t(o) * kC1 * 9], w.conv2_b[size_t(o)], kC1, kS1, kS1);
    for (int py = 0; py < kS2; ++py)
      for (int px = 0; px < kS2; ++px) {
        const float v = std::max(0.0f, max_pool_2x2(acc.data(), kS1, py, px));
        r.act2 = std::max(r.act2, double(v));
        act2[size_t(o * 49 + py * 7 + px)] = v;
      }
  }
  for (int j = 0; j < kHidden; ++j) {
    float s = w.fc1_b[size_t(j)];
    const float* row = &w.fc1_w[size_t(j) * kFlat];
    for (int i = 0; i < kFlat; ++i) s += row[i] * act2[size_t(i)];
    act3[size_t(j)] = std::max(0.0f, s);
    r.act3 = std::max(r.act3, double(act3[size_t(j)]));
  }
  for (int d = 0; d < w.dim; ++d) {
    float s = w.fc2_b[size_t(d)];
    const float* row = &w.fc2_w[size_t(d) * kHidden];
    for (int i = 0; i < kHidden; ++i) s += row[i] * act3[size_t(i)];
    h[d] = s;
  }
  if (ranges) ranges->merge(r);
}

Int8ConvNet quantize_convnet(const ConvNetWeights& w, const InputNormalization& norm, const ActivationRanges& ranges) {
  if (w.dim < 2 || w.dim % 2 != 0) throw std::invalid_argument("torus-export: torusN needs an even D, got " + std::to_string(w.dim));
  if (!(norm.std > 0)) throw std::invalid_argument("torus-export: the input std must be positive");
  Int8ConvNet n;
  n.dim = w.dim;
  // x = (p/255 - mean)/std = s_in (p - zp_in) - s_in r with s_in = 1/(255 std), zp_in = round(255 mean),
  // r = 255 mean - zp_in: the device feeds raw pixels, and -s_in r sum(w) goes into conv1's bias
  // (exact wherever the 3x3 window lies inside the image; at the border the padding then stands
  // for x = -s_in r instead of 0, an error below 0.5 / 255 / std per padded tap).
  n.input_scale = 1.0 / (255.0 * norm.std);
  n.input_zero_point = std::int32_t(std::clamp<long>(std::lround(255.0 * norm.mean), 0, 255));
  const double residual = 255.0 * norm.mean - n.input_zero_point;
  n.act1 = choose_activation_quant(0.0, ranges.act1);
  n.act2 = choose_activation_quant(0.0, ranges.act2);
  n.act3 = choose_activation_quant(0.0, ranges.act3);

  const QuantizedWeights q1 = quantize_weights_per_channel(w.conv1_w.data(), kC1, 9);
  n.conv1_w = q1.values;
  for (int o = 0; o < kC1; ++o) {
    double sum_w = 0;
    for (int j = 0; j < 9; ++j) sum_w += w.conv1_w[size_t(o * 9 + j)];
    const double acc_scale = n.input_scale * q1.scales[size_t(o)];
    const double b = w.conv1_b[size_t(o)] - n.input_scale * residual * sum_w;
    n.conv1_b.push_back(fold_zero_point(quantize_bias(b, acc_scale), n.input_zero_point, &q1.values[size_t(o) * 9], 9));
    quantize_requant(acc_scale / n.act1.scale, n.conv1_mult, n.conv1_shift);
  }
  const QuantizedWeights q2 = quantize_weights_per_channel(w.conv2_w.data(), kC2, kC1 * 9);
  n.conv2_w = q2.values;
  for (int o = 0; o < kC2; ++o) {
    const double acc_scale = n.act1.scale * q2.scales[size_t(o)];
    n.conv2_b.push_back(fold_zero_point(quantize_bias(w.conv2_b[size_t(o)], acc_scale), n.act1.zero_point,
                                        &q2.values[size_t(o) * kC1 * 9], kC1 * 9));
    quantize_requant(acc_scale / n.act2.scale, n.conv2_mult, n.conv2_shift);
  }
  const QuantizedWeights q3 = quantize_weights_per_channel(w.fc1_w.data(), kHidden, kFlat);
  n.fc1_w = q3.values;
  for (int j = 0; j < kHidden; ++j) {
    const double acc_scale = n.act2.scale * q3.scales[size_t(j)];
    n.fc1_b.push_back(fold_zero_point(quantize_bias(w.fc1_b[size_t(j)], acc_scale), n.act2.zero_point,
                                      &q3.values[size_t(j) * kFlat], kFlat));
    quantize_requant(acc_scale / n.act3.scale, n.fc1_mult, n.fc1_shift);
  }
  // fc2: one weight scale per torusN pair, so both coordinates of a pair are in the same units
  // and the int32 accumulators go to atan2 directly, with no requantisation.
  const QuantizedWeights q4 = quantize_weights_per_channel(w.fc2_w.data(), w.dim, kHidden, 2);
  n.fc2_w = q4.values;
  for (int d = 0; d < w.dim; ++d) {
    const double acc_scale = n.act3.scale * q4.scales[size_t(d)];
    n.fc2_b.push_back(fold_zero_point(quantize_bias(w.fc2_b[size_t(d)], acc_scale), n.act3.zero_point,
                                      &q4.values[size_t(d) * kHidden], kHidden));
    n.fc2_scale.push_back(acc_scale);
  }
  return n;
}

void int8_forward(const Int8ConvNet& n, const std::uint8_t* pixels, std::int32_t* h, std::uint8_t* codes) {
  std::array<std::uint8_t, 30 * 30> pad0;    // (1, 30, 30) raw pixels, border = the input zero point
  std::array<std::int8_t, kC1 * 16 * 16> pad1;  // (32, 16, 16) act1, border = its zero point (real 0)
  std::array<std::int8_t, kFlat> act2;       // (64, 7, 7)
  std::array<std::int8_t, kHidden> act3;     // (128)
  std::array<std::int32_t, kSide * kSide> acc;  // one conv channel
  pad0.fill(std::uint8_t(n.input_zero_point));
  for (int y = 0; y < kSide; ++y)
    std::copy_n(pixels + y * kSide, kSide, pad0.begin() + (y + 1) * 30 + 1);
  pad1.fill(std::int8_t(n.act1.zero_point));
  for (int o = 0; o < kC1; ++o) {
    conv3x3_channel<std::int32_t>(acc.data(), pad0.data(), &n.conv1_w[size_t(o) * 9], n.conv1_b[size_t(o)], 1, kSide, kSide);
    for (int py = 0; py < kS1; ++py)
      for (int px = 0; px < kS1; ++px)
        pad1[size_t((o * 16 + py + 1) * 16 + px + 1)] =
            requantize_relu(max_pool_2x2(acc.data(), kSide, py, px), n.conv1_mult[size_t(o)], n.conv1_shift[size_t(o)],
                            n.act1.zero_point);
  }
  for (int o = 0; o < kC2; ++o) {
    conv3x3_channel<std::int32_t>(acc.data(), pad1.data(), &n.conv2_w[size_t(o) * kC1 * 9], n.conv2_b[size_t(o)], kC1, kS1, kS1);
    for (int py = 0; py < kS2; ++py)
      for (int px = 0; px < kS2; ++px)
        act2[size_t(o * 49 + py * 7 + px)] = requantize_relu(max_pool_2x2(acc.data(), kS1, py, px),
                                                             n.conv2_mult[size_t(o)], n.conv2_shift[size_t(o)], n.act2.zero_point);
  }
  for (int j = 0; j < kHidden; ++j) {
    std::int32_t s = n.fc1_b[size_t(j)];
    const std::int8_t* row = &n.fc1_w[size_t(j) * kFlat];
    for (int i = 0; i < kFlat; ++i) s += std::int32_t(row[i]) * std::int32_t(act2[size_t(i)]);
    act3[size_t(j)] = requantize_relu(s, n.fc1_mult[size_t(j)], n.fc1_shift[size_t(j)], n.act3.zero_point);
  }
  for (int d = 0; d < n.dim; ++d) {
    std::int32_t s = n.fc2_b[size_t(d)];
    const std::int8_t* row = &n.fc2_w[size_t(d) * kHidden];
    for (int i = 0; i < kHidden; ++i) s += std::int32_t(row[i]) * std::int32_t(act3[size_t(i)]);
    h[d] = s;
  }
  for (int k = 0; k < n.dim / 2; ++k) codes[k] = integer_atan2_code(h[2 * k + 1], h[2 * k]);
}

void float_codes(const float* h, int dim, std::uint8_t* codes) {
  for (int k = 0; k < dim / 2; ++k)
    codes[k] = geometry::encode_angle(std::atan2(double(h[2 * k + 1]), double(h[2 * k])) / (2 * std::numbers::pi));
}

}  // namespace torus::train::exportq
