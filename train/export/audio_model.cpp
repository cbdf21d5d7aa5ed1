#include "train/export/audio_model.hpp"

#include "autodiff/parallel.hpp"
#include "datasets/synthetic_calls.hpp"
#include "train/export/int8_net.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace torus::train::exportq {

void validate(const AudioInput& in) {
  datasets::validate(in.log_mel);
  if (in.crop_frames < 16)
    throw std::invalid_argument("audio.crop_frames " + std::to_string(in.crop_frames) +
                                ": expected at least 16 (the audio CNN pools four times)");
  if (in.samples() <= in.log_mel.n_fft / 2)
    throw std::invalid_argument("audio.crop_frames " + std::to_string(in.crop_frames) + " with hop " + std::to_string(in.log_mel.hop) +
                                " gives " + std::to_string(in.samples()) + " samples, fewer than the n_fft / 2 + 1 reflect padding needs");
  if (in.mean.size() != size_t(in.log_mel.n_mels) || in.std.size() != size_t(in.log_mel.n_mels))
    throw std::invalid_argument("input.json: mean and std have " + std::to_string(in.mean.size()) + " and " +
                                std::to_string(in.std.size()) + " values, expected n_mels = " + std::to_string(in.log_mel.n_mels));
}

std::vector<float> float_network_input(const AudioInput& in, const std::int16_t* pcm) {
  std::vector<float> samples(size_t(in.samples()));
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = float(pcm[i]) / 32768.0f;  // libsndfile's int16 -> float
  std::vector<float> x = datasets::log_mel(in.log_mel, samples);  // (n_mels, crop_frames)
  for (int b = 0; b < in.log_mel.n_mels; ++b)
    for (int t = 0; t < in.crop_frames; ++t) {
      float& v = x[size_t(b) * in.crop_frames + t];
      v = (v - in.mean[size_t(b)]) / in.std[size_t(b)];
    }
  return x;
}

AudioRanges calibrate_audio(const AudioInput& in, const AudioCnnWeights& w, const std::vector<std::int16_t>& crops, int threads) {
  validate(in);
  const int64_t n = int64_t(crops.size()) / in.samples();
  if (n < 1) throw std::invalid_argument("calibrate_audio: no crops");
  std::vector<AudioRanges> chunk(size_t(std::max(1, threads)));
  std::vector<char> seen(chunk.size(), 0);  // not vector<bool>: chunks write their own element concurrently
  parallel_chunks(n, int(chunk.size()), [&](int c, int64_t begin, int64_t end) {
    std::vector<float> h(size_t(w.shape.dim));
    for (int64_t i = begin; i < end; ++i) {
      const std::vector<float> x = float_network_input(in, &crops[size_t(i) * size_t(in.samples())]);
      AudioRanges r;
      audio_float_forward(w, x.data(), h.data(), &r);
      if (seen[size_t(c)]) chunk[size_t(c)].merge(r);
      else chunk[size_t(c)] = r;
      seen[size_t(c)] = true;
    }
  });
  AudioRanges ranges;
  bool first = true;
  for (size_t c = 0; c < chunk.size(); ++c)
    if (seen[c]) {
      if (first) ranges = chunk[c];
      else ranges.merge(chunk[c]);
      first = false;
    }
  return ranges;
}

AudioModel quantize_audio_model(const AudioInput& in, const AudioCnnWeights& w, const AudioRanges& ranges) {
  validate(in);
  if (w.shape.n_mels != in.log_mel.n_mels || w.shape.frames != in.crop_frames)
    throw std::invalid_argument("torus-export: the network takes (1, " + std::to_string(w.shape.n_mels) + ", " +
                                std::to_string(w.shape.frames) + "), the front end gives (1, " + std::to_string(in.log_mel.n_mels) +
                                ", " + std::to_string(in.crop_frames) + ")");
  AudioModel m;
  m.input = in;
  m.front_end = make_int_log_mel(in.log_mel);
  m.net = quantize_audio_cnn(w, ranges);
  m.input_quantization = make_input_quantization(in.mean, in.std, m.net.input);
  return m;
}

void audio_embed_pcm(const AudioModel& m, const std::int16_t* pcm, std::uint8_t* codes) {
  const int frames = m.input.crop_frames;
  std::vector<std::int8_t> x(size_t(m.input.log_mel.n_mels) * size_t(frames));
  int_log_mel_input(m.front_end, m.input_quantization, pcm, m.input.samples(), x.data(), frames);
  std::vector<std::int32_t> h(size_t(m.net.shape.dim));
  audio_int8_forward(m.net, x.data(), h.data(), codes);
}

void audio_float_codes(const AudioInput& in, const AudioCnnWeights& w, const std::int16_t* pcm, std::uint8_t* codes) {
  const std::vector<float> x = float_network_input(in, pcm);
  std::vector<float> h(size_t(w.shape.dim));
  audio_float_forward(w, x.data(), h.data());
  float_codes(h.data(), w.shape.dim, codes);
}

namespace {
template <typename Embed>
std::vector<std::uint8_t> codes_of_crops(int samples, int K, const std::vector<std::int16_t>& crops, int threads, Embed embed) {
  const int64_t n = int64_t(crops.size()) / samples;
  std::vector<std::uint8_t> codes(size_t(n) * size_t(K));
  parallel_chunks(n, std::max(1, threads), [&](int, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) embed(&crops[size_t(i) * size_t(samples)], &codes[size_t(i) * size_t(K)]);
  });
  return codes;
}
}  // namespace

std::vector<std::uint8_t> audio_int_codes(const AudioModel& m, const std::vector<std::int16_t>& crops, int threads) {
  return codes_of_crops(m.input.samples(), m.net.shape.dim / 2, crops, threads,
                        [&](const std::int16_t* pcm, std::uint8_t* codes) { audio_embed_pcm(m, pcm, codes); });
}

std::vector<std::uint8_t> audio_float_codes(const AudioInput& in, const AudioCnnWeights& w, const std::vector<std::int16_t>& crops,
                                            int threads) {
  return codes_of_crops(in.samples(), w.shape.dim / 2, crops, threads,
                        [&](const std::int16_t* pcm, std::uint8_t* codes) { audio_float_codes(in, w, pcm, codes); });
}

std::vector<std::int16_t> synthetic_call_crops(const AudioInput& in, int count, std::uint64_t seed) {
  datasets::SyntheticCalls corpus;
  corpus.sample_rate = in.log_mel.sample_rate;
  corpus.seed = seed;
  corpus.clip_seconds = double(in.samples()) / in.log_mel.sample_rate + 0.05;
  corpus.clips_per_species = (count + corpus.species - 1) / corpus.species;
  std::vector<std::int16_t> crops;
  crops.reserve(size_t(count) * size_t(in.samples()));
  for (int i = 0; i < count; ++i) {
    const std::vector<float> clip = corpus.clip(i % corpus.species, i / corpus.species);
    for (int j = 0; j < in.samples(); ++j) {
      const float v = j < int(clip.size()) ? clip[size_t(j)] : 0.0f;
      crops.push_back(std::int16_t(std::clamp(std::lround(double(v) * 32767.0), -32768L, 32767L)));
    }
  }
  return crops;
}

}  // namespace torus::train::exportq
