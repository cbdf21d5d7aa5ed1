// The loops both exports' C++ references share (internal): one output channel of a 3x3
// convolution and a 2x2 max pool over its accumulators, in the order the generated C runs them,
// so the references and the C sum the same terms in the same order.
#pragma once

#include <algorithm>

namespace torus::train::exportq {

// One output channel of a 3x3 convolution, stride 1, over a zero-padded input (C, H+2, T+2):
// acc (H, T) = bias + sum_c,ky,kx w[c][ky][kx] in[c][y+ky][x+kx]. The innermost loop runs along a
// row (time, for a spectrogram), which compilers vectorise.
template <typename Acc, typename In, typename Wt>
void conv3x3_channel(Acc* acc, const In* in, const Wt* w, Acc bias, int channels, int H, int T) {
  const int pt = T + 2, plane = (H + 2) * pt;
  std::fill(acc, acc + H * T, bias);
  for (int c = 0; c < channels; ++c)
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx) {
        const Acc wv = Acc(w[(c * 3 + ky) * 3 + kx]);
        const In* src = in + c * plane + ky * pt + kx;
        for (int y = 0; y < H; ++y) {
          Acc* a = acc + y * T;
          const In* s = src + y * pt;
          for (int x = 0; x < T; ++x) a[x] += wv * Acc(s[x]);
        }
      }
}

// The maximum of the 2x2 window (py, px) of accumulators T wide: requantisation is monotone, so
// pooling the accumulators first is exact.
template <typename Acc>
Acc max_pool_2x2(const Acc* acc, int T, int py, int px) {
  const Acc* r0 = acc + (2 * py) * T + 2 * px;
  const Acc* r1 = r0 + T;
  return std::max(std::max(r0[0], r0[1]), std::max(r1[0], r1[1]));
}

}  // namespace torus::train::exportq
