// The .npy reader: header parsing (a Python dict literal, parsed strictly rather than evaluated)
// and the size-checked, converting read of the data.
#include "datasets/binary_file.hpp"
#include "datasets/npy.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <string_view>

namespace torus::datasets {

namespace {
static_assert(std::endian::native == std::endian::little, "the npy reader copies little-endian data as is");

struct NpyHeader {
  std::string descr;   // e.g. "<f4"
  char kind = 0;       // 'f', 'i' or 'u'
  int item_size = 0;   // bytes
  std::vector<int64_t> shape;
  int64_t count = 0;        // product of shape
  int64_t data_offset = 0;  // bytes before the data
};

std::string describe_shape(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// A strict parser for the header dict numpy writes, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class DictParser {
 public:
  DictParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string_literal();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr" && !have_descr) {
        if (peek() != '\'' && peek() != '"') fail("descr to be a dtype string such as '<f4' (structured dtypes are not supported)");
        h.descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order" && !have_order) {
        if (word("True")) fail_found("fortran_order False (only C order is supported)", "True");
        if (!word("False")) fail("fortran_order to be True or False");
        have_order = true;
      } else if (key == "shape" && !have_shape) {
        h.shape = shape_tuple();
        have_shape = true;
      } else {
        fail_found("only the keys 'descr', 'fortran_order' and 'shape', each once", "'" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) fail("the end of the header after '}'");
    if (!have_descr || !have_order || !have_shape) fail("the keys 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  [[noreturn]] void fail(const std::string& expected) const {
    const std::string found = pos_ < s_.size() ? "'" + std::string(s_.substr(pos_, 16)) + "'" : "the end of the header";
    fail_found(expected, found);
  }
  [[noreturn]] void fail_found(const std::string& expected, const std::string& found) const {
    throw DataError(path_ + ": bad npy header at byte " + std::to_string(pos_) + ": expected " + expected + ", found " + found);
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("'") + c + "'");
    ++pos_;
  }
  bool word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  std::string string_literal() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("a quoted key");
    const size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string_view::npos || end - pos_ > 64) fail("a closed string of at most 64 characters");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  std::vector<int64_t> shape_tuple() {
    std::vector<int64_t> shape;
    expect('(');
    skip_space();
    while (peek() != ')') {
      if (peek() < '0' || peek() > '9') fail("a non-negative dimension");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) fail("a dimension below 2^63");
        v = v * 10 + (peek() - '0');
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long literals, in files written by old numpy
      shape.push_back(v);
      if (shape.size() > 32) fail("at most 32 dimensions");
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != ')') {
        fail("',' or ')' in the shape");
      }
    }
    ++pos_;
    return shape;
  }

  std::string_view s_;
  const std::string& path_;
  size_t pos_ = 0;
};

// Kind and size from a descr; only the dtypes this reader converts.
void parse_descr(NpyHeader& h, const std::string& path) {
  const std::string& d = h.descr;
  const auto refuse = [&](const std::string& why) {
    throw DataError(path + ": npy dtype '" + d + "' " + why +
                    " (expected little-endian '<f4' '<f8' '|i1' '|u1' '<i2' '<u2' '<i4' '<u4' '<i8' '<u8')");
  };
  if (d.size() != 3 || d[2] < '1' || d[2] > '9') refuse("is not supported");
  if (d[0] == '>') refuse("is big-endian");
  h.kind = d[1];
  h.item_size = d[2] - '0';
  const bool single = h.item_size == 1;
  if (!(d[0] == '<' || (d[0] == '|' && single))) refuse("has an unknown byte order");
  const bool ok = (h.kind == 'f' && (h.item_size == 4 || h.item_size == 8)) ||
                  ((h.kind == 'i' || h.kind == 'u') && (h.item_size == 1 || h.item_size == 2 || h.item_size == 4 || h.item_size == 8));
  if (!ok) refuse("is not supported");
}

NpyHeader read_header(detail::BinaryFile& in, const std::string& path) {
  if (in.size() < 10) {
    throw DataError(path + ": too short for an npy file (" + std::to_string(in.size()) + " bytes, expected at least 10)");
  }
  unsigned char prefix[8];
  in.read(prefix, 8, "the npy magic");
  if (std::memcmp(prefix, "\x93NUMPY", 6) != 0) {
    throw DataError(path + ": not an npy file (expected the magic \\x93NUMPY, found other bytes)");
  }
  const int major = prefix[6], minor = prefix[7];
  if (major < 1 || major > 3 || minor != 0) {
    throw DataError(path + ": npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                    ", expected 1.0, 2.0 or 3.0");
  }
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 (utf-8 header) in 4.
  const int len_bytes = major == 1 ? 2 : 4;
  unsigned char len_le[4] = {0, 0, 0, 0};
  in.read(len_le, len_bytes, "the npy header length");
  const int64_t header_len = int64_t(len_le[0]) | int64_t(len_le[1]) << 8 | int64_t(len_le[2]) << 16 | int64_t(len_le[3]) << 24;
  const int64_t offset = 8 + len_bytes + header_len;
  if (header_len > kMaxNpyHeaderBytes || offset > in.size()) {
    throw DataError(path + ": npy header length " + std::to_string(header_len) + " runs past the end of the file (" +
                    std::to_string(in.size()) + " bytes) or the " + std::to_string(kMaxNpyHeaderBytes) + "-byte limit");
  }
  std::string text(size_t(header_len), '\0');
  in.read(text.data(), header_len, "the npy header");
  NpyHeader h = DictParser(text, path).parse();
  parse_descr(h, path);
  h.data_offset = offset;
  h.count = 1;
  for (int64_t d : h.shape) {
    if (__builtin_mul_overflow(h.count, d, &h.count)) {
      throw DataError(path + ": npy shape " + describe_shape(h.shape) + " overflows a 64-bit element count");
    }
  }
  int64_t bytes = 0;
  const bool overflow = __builtin_mul_overflow(h.count, int64_t(h.item_size), &bytes);
  if (overflow || bytes != in.size() - offset) {
    throw DataError(path + ": npy shape " + describe_shape(h.shape) + " of '" + h.descr + "' needs " +
                    (overflow ? std::string("more than 2^63") : std::to_string(bytes)) + " data bytes after the " +
                    std::to_string(offset) + "-byte header, found " + std::to_string(in.size() - offset));
  }
  return h;
}

// Reads the data as Src values and converts them to Dst in chunks, so at most one chunk of the
// file's own type is held besides the result.
template <class Src, class Dst, class Convert>
void read_converted(detail::BinaryFile& in, int64_t count, Dst* out, Convert convert) {
  constexpr int64_t kChunk = 1 << 16;
  std::vector<Src> buffer(size_t(std::min(count, kChunk)));
  for (int64_t first = 0; first < count; first += kChunk) {
    const int64_t n = std::min(kChunk, count - first);
    in.read(buffer.data(), n * int64_t(sizeof(Src)), "npy data from element " + std::to_string(first));
    for (int64_t i = 0; i < n; ++i) out[first + i] = convert(buffer[size_t(i)], first + i);
  }
}

template <class Src>
void read_integers_as(detail::BinaryFile& in, const NpyHeader& h, const std::string& path, std::vector<int64_t>& out) {
  read_converted<Src>(in, h.count, out.data(), [&](Src v, int64_t i) {
    if constexpr (std::is_same_v<Src, uint64_t>) {
      if (v > uint64_t(std::numeric_limits<int64_t>::max())) {
        throw DataError(path + ": element " + std::to_string(i) + " is " + std::to_string(v) + ", expected at most 2^63 - 1");
      }
    }
    return int64_t(v);
  });
}
}  // namespace

FloatMatrix read_npy_matrix(const std::string& path) {
  detail::BinaryFile in(path, "npy file");
  const NpyHeader h = read_header(in, path);
  if (h.shape.size() != 2) {
    throw DataError(path + ": npy array of shape " + describe_shape(h.shape) + ", expected rank 2 (rows, cols)");
  }
  if (h.kind != 'f') throw DataError(path + ": npy dtype '" + h.descr + "', expected a float array ('<f4' or '<f8')");
  FloatMatrix m;
  m.rows = h.shape[0];
  m.cols = h.shape[1];
  m.values.resize(size_t(h.count));
  if (h.item_size == 4) {
    in.read(m.values.data(), h.count * 4, "the npy data");
  } else {
    read_converted<double>(in, h.count, m.values.data(), [](double v, int64_t) { return float(v); });
  }
  return m;
}

std::vector<int64_t> read_npy_integers(const std::string& path) {
  detail::BinaryFile in(path, "npy file");
  const NpyHeader h = read_header(in, path);
  if (h.shape.size() != 1) throw DataError(path + ": npy array of shape " + describe_shape(h.shape) + ", expected rank 1");
  if (h.kind == 'f') throw DataError(path + ": npy dtype '" + h.descr + "', expected an integer array");
  std::vector<int64_t> out(size_t(h.count));
  const bool is_signed = h.kind == 'i';
  switch (h.item_size) {
    case 1: is_signed ? read_integers_as<int8_t>(in, h, path, out) : read_integers_as<uint8_t>(in, h, path, out); break;
    case 2: is_signed ? read_integers_as<int16_t>(in, h, path, out) : read_integers_as<uint16_t>(in, h, path, out); break;
    case 4: is_signed ? read_integers_as<int32_t>(in, h, path, out) : read_integers_as<uint32_t>(in, h, path, out); break;
    default: is_signed ? read_integers_as<int64_t>(in, h, path, out) : read_integers_as<uint64_t>(in, h, path, out); break;
  }
  return out;
}

}  // namespace torus::datasets
