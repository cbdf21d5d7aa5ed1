// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF. The one
// decoder behind the configuration's check of paths and the plots' drawing of class names.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

namespace torus::train {

// The length (1 to 4) of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are
// not one (a stray continuation byte, a truncated or overlong sequence, a surrogate).
inline size_t utf8_sequence_length(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char b = byte(0);
  const size_t n = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : (b >> 4) == 0xE ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(k) & 0xC0) != 0x80) return 0;
  if (n == 3 && ((b == 0xE0 && byte(1) < 0xA0) || (b == 0xED && byte(1) >= 0xA0))) return 0;
  if (n == 4 && ((b == 0xF0 && byte(1) < 0x90) || (b == 0xF4 && byte(1) >= 0x90))) return 0;
  return n;
}

inline bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `s` with every byte that does not start a valid sequence, and every control character (which
// XML and a plot label cannot hold), replaced by U+FFFD: what a plot draws of user text.
inline std::string displayable_utf8(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    const auto b = static_cast<unsigned char>(s[i]);
    const bool control = n == 1 && (b < 0x20 || b == 0x7F);
    if (n == 0 || control) out += "\xEF\xBF\xBD";
    else out.append(s, i, n);
    i += std::max<size_t>(n, 1);
  }
  return out;
}

}  // namespace torus::train
