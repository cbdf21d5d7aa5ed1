// The .npy reader and writers: round trips, every supported dtype and header version, and every
// malformed file (each truncation, bad magic, bad dicts, unsupported dtypes, lying shapes)
// failing with a DataError that names the file. Label CSVs and feature sets.
#include <catch2/catch.hpp>

#include "datasets/npy.hpp"
#include "nn/io/atomic_file.hpp"
#include "temp_dir.hpp"

#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

using namespace torus::datasets;
using torus::testing::TempDir;
using torus::testing::write_bytes;
namespace fs = std::filesystem;

namespace {
// A .npy file: magic, version, header length, the dict padded with spaces and ended by '\n' so
// that the data starts at a multiple of 64, then the data.
std::string npy(const std::string& dict, const std::string& data, int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  header += std::string((64 - (prefix + header.size() + 1) % 64) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += char(major);
  out += char(0);
  for (size_t b = 0; b < prefix - 8; ++b) out += char((header.size() >> (8 * b)) & 0xff);
  return out + header + data;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

std::string dict(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST_CASE("npy round trips through our writers and reader", "[datasets][npy]") {
  TempDir dir("npy_roundtrip");
  std::vector<float> m(3 * 5);
  for (size_t i = 0; i < m.size(); ++i) m[i] = 0.25f * float(i) - 1.0f + (i == 7 ? 1e-7f : 0.0f);
  m[4] = -std::numeric_limits<float>::max();
  write_npy(dir.file("m.npy"), m.data(), 3, 5);
  const FloatMatrix back = read_npy_matrix(dir.file("m.npy"));
  CHECK(back.rows == 3);
  CHECK(back.cols == 5);
  CHECK(back.values == m);
  // the bytes xtensor wrote: version 1.0, a 64-byte aligned header, then the data as is
  const std::string bytes = read_all(dir.file("m.npy"));
  CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  CHECK((bytes.size() - m.size() * 4) % 64 == 0);
  CHECK(bytes.find("'descr': '<f4'") != std::string::npos);
  CHECK(bytes.find("'shape': (3, 5)") != std::string::npos);

  const std::vector<int64_t> ints = {0, -1, 7, int64_t(1) << 40, std::numeric_limits<int64_t>::min()};
  write_npy(dir.file("i.npy"), ints);
  CHECK(read_npy_integers(dir.file("i.npy")) == ints);
  CHECK(read_all(dir.file("i.npy")).find("'shape': (5,)") != std::string::npos);
  write_npy(dir.file("empty.npy"), std::vector<int64_t>{});
  CHECK(read_npy_integers(dir.file("empty.npy")).empty());

  const std::vector<uint8_t> u8 = {0, 1, 2, 253, 254, 255};
  write_npy_u8(dir.file("u8.npy"), u8.data(), 2, 3);
  const std::string u8_bytes = read_all(dir.file("u8.npy"));
  CHECK(u8_bytes.find("'descr': '|u1'") != std::string::npos);
  CHECK(u8_bytes.find("'shape': (2, 3)") != std::string::npos);
  CHECK(u8_bytes.substr(u8_bytes.size() - 6) == raw(u8));

  // overwriting replaces the file and leaves no temporary file behind
  const float one = 1.0f;
  write_npy(dir.file("m.npy"), &one, 1, 1);
  CHECK(read_npy_matrix(dir.file("m.npy")).values == std::vector<float>{1.0f});
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.path().filename().string().find(".tmp") == std::string::npos ? 1 : 100;
  CHECK(files == 4);
}

TEST_CASE("npy writers fail cleanly and never leave a partial file", "[datasets][npy]") {
  TempDir dir("npy_write_fail");
  const float v[2] = {1, 2};
  CHECK_THROWS_WITH(write_npy(dir.file("no/such/folder/x.npy"), v, 1, 2),
                    Catch::Contains("no/such/folder/x.npy") && Catch::Contains("temporary file"));
  // the target is a folder: the rename fails, the temporary file is removed
  fs::create_directory(dir.path() / "taken.npy");
  fs::create_directory(dir.path() / "taken.npy" / "inside");
  CHECK_THROWS_WITH(write_npy(dir.file("taken.npy"), v, 1, 2), Catch::Contains("taken.npy") && Catch::Contains("renaming"));
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.is_directory() ? 1 : 100;
  CHECK(entries == 1);
  CHECK_THROWS_AS(write_npy(dir.file("neg.npy"), v, -1, 2), std::invalid_argument);
  CHECK_THROWS_AS(write_npy_u8(dir.file("null.npy"), nullptr, 1, 2), std::invalid_argument);
  CHECK_FALSE(fs::exists(dir.path() / "null.npy"));
}

TEST_CASE("npy reader: every dtype, header version and Python 2 shape", "[datasets][npy]") {
  TempDir dir("npy_dtypes");
  const std::string p = dir.file("a.npy");
  const std::vector<int64_t> expect = {-3, 0, 5, 100};
  const std::vector<int64_t> expect_unsigned = {3, 0, 5, 100};
  write_bytes(p, npy(dict("|i1", "(4,)"), raw(std::vector<int8_t>{-3, 0, 5, 100})));
  CHECK(read_npy_integers(p) == expect);
  write_bytes(p, npy(dict("|u1", "(4,)"), raw(std::vector<uint8_t>{3, 0, 5, 100})));
  CHECK(read_npy_integers(p) == expect_unsigned);
  write_bytes(p, npy(dict("<i2", "(4,)"), raw(std::vector<int16_t>{-3, 0, 5, 100})));
  CHECK(read_npy_integers(p) == expect);
  write_bytes(p, npy(dict("<u2", "(4,)"), raw(std::vector<uint16_t>{3, 0, 5, 100})));
  CHECK(read_npy_integers(p) == expect_unsigned);
  write_bytes(p, npy(dict("<i4", "(4,)"), raw(std::vector<int32_t>{-3, 0, 5, 100}), 2));
  CHECK(read_npy_integers(p) == expect);
  write_bytes(p, npy(dict("<u4", "(4,)"), raw(std::vector<uint32_t>{3, 0, 5, 100}), 3));
  CHECK(read_npy_integers(p) == expect_unsigned);
  write_bytes(p, npy(dict("<i8", "(4L,)"), raw(expect)));
  CHECK(read_npy_integers(p) == expect);
  write_bytes(p, npy(dict("<u8", "(4,)"), raw(std::vector<uint64_t>{3, 0, 5, 100})));
  CHECK(read_npy_integers(p) == expect_unsigned);
  write_bytes(p, npy(dict("<u8", "(2,)"), raw(std::vector<uint64_t>{1, uint64_t(1) << 63})));
  CHECK_THROWS_WITH(read_npy_integers(p), Catch::Contains(p) && Catch::Contains("element 1 is 9223372036854775808"));

  // '<f8' converts to float; the keys may come in any order, with double quotes and no trailing comma
  const std::vector<double> d = {0.5, -1.25, 1e300, 3.0, 1.0 / 3.0, 0.0};
  write_bytes(p, npy("{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f8\"}", raw(d), 2));
  const FloatMatrix m = read_npy_matrix(p);
  CHECK(m.rows == 2);
  CHECK(m.cols == 3);
  CHECK(m.values[0] == 0.5f);
  CHECK(m.values[1] == -1.25f);
  CHECK(std::isinf(m.values[2]));  // beyond float: load_features refuses it
  CHECK(m.values[4] == float(1.0 / 3.0));
  // an empty matrix is a valid file
  write_bytes(p, npy(dict("<f4", "(0, 7)"), ""));
  CHECK(read_npy_matrix(p).cols == 7);
}

TEST_CASE("every truncation or extension of a valid npy file throws", "[datasets][npy]") {
  TempDir dir("npy_truncated");
  const std::string p = dir.file("t.npy");
  const std::vector<std::string> valid = {
      npy(dict("<f4", "(3, 4)"), raw(std::vector<float>(12, 1.5f))),
      npy(dict("<f8", "(2, 2)"), raw(std::vector<double>(4, 2.5)), 2),
      npy(dict("<i8", "(5,)"), raw(std::vector<int64_t>(5, 9)), 3),
      npy(dict("|u1", "(3,)"), "abc"),
  };
  for (size_t f = 0; f < valid.size(); ++f) {
    const bool matrix = f < 2;
    write_bytes(p, valid[f]);
    CHECK_NOTHROW(matrix ? (void)read_npy_matrix(p) : (void)read_npy_integers(p));
    int refused = 0;
    for (size_t len = valid[f].size(); len-- > 0;) {
      fs::resize_file(p, len);  // cutting the valid file shorter, one byte at a time
      try {
        matrix ? (void)read_npy_matrix(p) : (void)read_npy_integers(p);
      } catch (const DataError& e) {
        refused += std::string(e.what()).find(p) != std::string::npos;
      }
    }
    INFO("file " << f);
    CHECK(refused == int(valid[f].size()));
    write_bytes(p, valid[f] + "x");
    CHECK_THROWS_WITH(matrix ? (void)read_npy_matrix(p) : (void)read_npy_integers(p), Catch::Contains(p) && Catch::Contains("found"));
  }
}

TEST_CASE("npy headers with any single byte changed are read or refused, never crash", "[datasets][npy]") {
  TempDir dir("npy_fuzz");
  const std::string p = dir.file("f.npy");
  const std::string valid = npy(dict("<f4", "(3, 4)"), raw(std::vector<float>(12, 1.5f)));
  write_bytes(p, valid);
  int read = 0, refused = 0;
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  const auto put = [&](size_t pos, char c) {
    f.seekp(std::streamoff(pos));
    f.put(c);
    f.flush();
  };
  for (size_t pos = 0; pos < 64; ++pos)
    for (char c : {'\0', '(', ')', ',', '9', '\'', '}', ' ', char(0xff)}) {
      put(pos, c);
      try {
        const FloatMatrix m = read_npy_matrix(p);
        read += m.rows * m.cols == 12;  // whatever was read holds exactly the file's data
      } catch (const DataError&) {
        ++refused;
      }
      put(pos, valid[pos]);
    }
  CHECK(read + refused == 64 * 9);
  CHECK(refused > 300);
}

TEST_CASE("malformed npy files fail naming the file, the expectation and the finding", "[datasets][npy]") {
  TempDir dir("npy_bad");
  const std::string p = dir.file("bad.npy");
  const std::string data12 = raw(std::vector<float>(12, 0.0f));
  struct Case {
    std::string name, bytes, message;
  };
  std::string wrong_magic = npy(dict("<f4", "(3, 4)"), data12);
  wrong_magic[1] = 'M';
  std::string version = npy(dict("<f4", "(3, 4)"), data12);
  version[6] = 4;
  std::string minor = npy(dict("<f4", "(3, 4)"), data12);
  minor[7] = 1;
  std::string long_header = npy(dict("<f4", "(3, 4)"), data12, 2);
  long_header[10] = char(0xff), long_header[11] = char(0x7f);  // header length ~2 GB
  std::string past_end = npy(dict("<f4", "(3, 4)"), "");
  past_end[8] = char(0xf0);  // 240 bytes of header in a 64-byte file

  const std::vector<Case> cases = {
      {"empty", "", "too short for an npy file (0 bytes"},
      {"magic", wrong_magic, "not an npy file"},
      {"text", std::string("just some text, not numpy at all"), "not an npy file"},
      {"version", version, "version 4.0, expected 1.0, 2.0 or 3.0"},
      {"minor", minor, "version 1.1"},
      {"long header", long_header, "runs past the end of the file"},
      {"past end", past_end, "runs past the end of the file"},
      {"not a dict", npy("['<f4', False, (3, 4)]", data12), "expected '{'"},
      {"missing key", npy("{'descr': '<f4', 'shape': (3, 4), }", data12), "the keys 'descr', 'fortran_order' and 'shape'"},
      {"extra key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", data12), "found 'x'"},
      {"duplicate key", npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}", data12), "found 'descr'"},
      {"fortran", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", data12), "only C order"},
      {"order word", npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4), }", data12), "True or False"},
      {"unclosed", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), ", data12), "found the end of the header"},
      {"unterminated string", npy("{'descr: <f4}", data12), "a closed string"},
      {"garbage after", npy(dict("<f4", "(3, 4)") + " junk", data12), "the end of the header after '}'"},
      {"negative shape", npy(dict("<f4", "(-3, 4)"), data12), "a non-negative dimension"},
      {"list shape", npy(dict("<f4", "[3, 4]"), data12), "expected '('"},
      {"float shape", npy(dict("<f4", "(3.0, 4)"), data12), "',' or ')' in the shape"},
      {"structured", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3, 4), }", data12), "structured dtypes"},
      {"big-endian", npy(dict(">f4", "(3, 4)"), data12), "'>f4' is big-endian"},
      {"complex", npy(dict("<c8", "(3, 2)"), data12), "'<c8' is not supported"},
      {"unicode", npy(dict("<U4", "(3,)"), data12), "'<U4' is not supported"},
      {"object", npy(dict("|O", "(3,)"), data12), "'|O' is not supported"},
      {"half", npy(dict("<f2", "(3, 8)"), data12), "'<f2' is not supported"},
      {"pipe float", npy(dict("|f4", "(3, 4)"), data12), "unknown byte order"},
      {"short data", npy(dict("<f4", "(3, 5)"), data12), "needs 60 data bytes after the 128-byte header, found 48"},
      {"huge shape", npy(dict("<f4", "(1000000, 1000000)"), data12), "needs 4000000000000 data bytes"},
      {"overflow", npy(dict("<f4", "(4294967296, 4294967296)"), data12), "overflows a 64-bit element count"},
      {"bytes overflow", npy(dict("<f8", "(2305843009213693952,)"), data12), "needs more than 2^63 data bytes"},
      {"dimension overflow", npy(dict("<f4", "(99999999999999999999, 1)"), data12), "a dimension below 2^63"},
      {"zero overflow", npy(dict("<f4", "(0, 4294967296, 4294967296)"), ""), ""},  // 0 elements: a valid empty array
  };
  for (const Case& c : cases) {
    INFO(c.name);
    write_bytes(p, c.bytes);
    if (c.message.empty()) {
      CHECK_THROWS_WITH(read_npy_matrix(p), Catch::Contains("rank 2"));  // rank 3, no overflow
      continue;
    }
    CHECK_THROWS_WITH(read_npy_matrix(p), Catch::Contains(p) && Catch::Contains(c.message));
    CHECK_THROWS_WITH(read_npy_integers(p), Catch::Contains(p));
  }

  // valid files of the wrong kind
  write_bytes(p, npy(dict("<f4", "(12,)"), data12));
  CHECK_THROWS_WITH(read_npy_matrix(p), Catch::Contains(p) && Catch::Contains("shape (12,), expected rank 2"));
  CHECK_THROWS_WITH(read_npy_integers(p), Catch::Contains("'<f4', expected an integer array"));
  write_bytes(p, npy(dict("<i4", "(3, 4)"), data12));
  CHECK_THROWS_WITH(read_npy_matrix(p), Catch::Contains("'<i4', expected a float array"));
  CHECK_THROWS_WITH(read_npy_integers(p), Catch::Contains("shape (3, 4), expected rank 1"));
  CHECK_THROWS_WITH(read_npy_matrix(dir.file("missing.npy")), Catch::Contains("missing.npy") && Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(read_npy_matrix(dir.path().string()), Catch::Contains("not a regular file"));
}

TEST_CASE("npy files are read and written through torus_file, the one file library", "[datasets][npy]") {
  TempDir dir("npy_single_path");
  // A failed write reports exactly what write_file_atomic reports for the same target, apart from
  // the temporary file's per-process counter: the .npy writer has no write path of its own.
  fs::create_directory(dir.path() / "taken.npy");
  fs::create_directory(dir.path() / "taken.npy" / "inside");
  const float v[2] = {1, 2};
  std::string from_npy, from_file;
  try {
    write_npy(dir.file("taken.npy"), v, 1, 2);
  } catch (const DataError& e) {
    from_npy = e.what();
  }
  try {
    torus::nn::io::write_file_atomic(dir.file("taken.npy"), std::string_view("x"));
  } catch (const torus::nn::io::IoError& e) {
    from_file = e.what();
  }
  const auto without_counter = [](std::string m) {
    const size_t tmp = m.find(".tmp-"), end = m.find(' ', tmp);
    return tmp == std::string::npos ? m : m.erase(tmp, end - tmp);
  };
  REQUIRE_FALSE(from_file.empty());
  CHECK(without_counter(from_npy) == without_counter(from_file));
  CHECK(from_npy.find("/.taken.npy.tmp-") != std::string::npos);  // torus_file's hidden temporary name
  // Reads refuse a FIFO without blocking, as InputFile does.
  const std::string fifo = dir.file("features.npy");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(read_npy_matrix(fifo), Catch::Contains(fifo) && Catch::Contains("npy file is not a regular file"));
}

TEST_CASE("label CSVs: optional header, trailing blank lines, errors by line", "[datasets][npy]") {
  TempDir dir("labels_csv");
  const std::string p = dir.file("labels.csv");
  write_bytes(p, std::string("label\n3\n0\r\n 12 \n+4\n\n\n"));
  CHECK(read_label_csv(p) == std::vector<int>{3, 0, 12, 4});
  write_bytes(p, std::string("\xEF\xBB\xBF" "7\n8"));  // a byte-order mark, no final newline, no header
  CHECK(read_label_csv(p) == std::vector<int>{7, 8});
  write_bytes(p, std::string(""));
  CHECK(read_label_csv(p).empty());
  write_bytes(p, std::string("-2\n"));
  CHECK(read_label_csv(p) == std::vector<int>{-2});  // load_features refuses it

  struct Case {
    std::string text, message;
  };
  for (const Case& c : std::vector<Case>{{"1\n\n2\n", "line 2: expected one integer label, found a blank line"},
                                         {"3.5\n1\n", "line 1: expected one integer label, found '3.5'"},
                                         {"id\n1\ncat\n", "line 3: expected one integer label, found 'cat'"},
                                         {"1\n2,3\n", "line 2: expected one integer label, found '2,3'"},
                                         {"1\n99999999999\n", "line 2"},
                                         {"\n1\n", "line 1: expected one integer label, found a blank line"},
                                         {"a\nb\n", "line 2"}}) {
    INFO(c.text);
    write_bytes(p, c.text);
    CHECK_THROWS_WITH(read_label_csv(p), Catch::Contains(p) && Catch::Contains(c.message));
  }
  CHECK_THROWS_WITH(read_label_csv(dir.file("none.csv")), Catch::Contains("none.csv"));
}

TEST_CASE("feature sets: features and labels must agree", "[datasets][npy]") {
  TempDir dir("features");
  const std::vector<float> f = {0, 1, 2, 3, 4, 5, 6, 7};  // (4, 2)
  write_npy(dir.file("f.npy"), f.data(), 4, 2);
  write_npy(dir.file("l.npy"), std::vector<int64_t>{2, 0, 6, 2});
  const FeatureSet set = load_features(dir.file("f.npy"), dir.file("l.npy"));
  CHECK(set.n == 4);
  CHECK(set.dim == 2);
  CHECK(set.classes == 7);
  CHECK(set.values == f);
  CHECK(set.labels == std::vector<int>{2, 0, 6, 2});
  write_bytes(dir.file("l.CSV"), std::string("class\n1\n1\n0\n3\n"));
  const FeatureSet csv = load_features(dir.file("f.npy"), dir.file("l.CSV"));
  CHECK(csv.labels == std::vector<int>{1, 1, 0, 3});
  CHECK(csv.classes == 4);
  write_bytes(dir.file("l.txt"), std::string("0\n0\n0\n0\n"));
  CHECK(load_features(dir.file("f.npy"), dir.file("l.txt")).classes == 1);

  write_npy(dir.file("l3.npy"), std::vector<int64_t>{0, 1, 2});
  CHECK_THROWS_WITH(load_features(dir.file("f.npy"), dir.file("l3.npy")),
                    Catch::Contains("l3.npy") && Catch::Contains("3 labels for the 4 feature rows"));
  write_npy(dir.file("neg.npy"), std::vector<int64_t>{0, 1, -1, 2});
  CHECK_THROWS_WITH(load_features(dir.file("f.npy"), dir.file("neg.npy")),
                    Catch::Contains("neg.npy") && Catch::Contains("label -1 of row 2"));
  write_npy(dir.file("big.npy"), std::vector<int64_t>{0, 1, int64_t(1) << 40, 2});
  CHECK_THROWS_WITH(load_features(dir.file("f.npy"), dir.file("big.npy")), Catch::Contains("of row 2 is outside"));
  write_bytes(dir.file("l.json"), std::string("[0, 1, 2, 3]"));
  CHECK_THROWS_WITH(load_features(dir.file("f.npy"), dir.file("l.json")), Catch::Contains("expected .npy, .csv or .txt"));

  for (float bad : {std::nanf(""), std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}) {
    std::vector<float> g = f;
    g[5] = bad;  // row 2, column 1
    write_npy(dir.file("g.npy"), g.data(), 4, 2);
    CHECK_THROWS_WITH(load_features(dir.file("g.npy"), dir.file("l.npy")),
                      Catch::Contains("g.npy") && Catch::Contains("row 2 column 1") && Catch::Contains("expected a finite feature"));
  }
  write_npy(dir.file("empty.npy"), f.data(), 0, 2);
  write_npy(dir.file("none.npy"), std::vector<int64_t>{});
  CHECK_THROWS_WITH(load_features(dir.file("empty.npy"), dir.file("none.npy")), Catch::Contains("at least one row"));
  // a float label file is refused by the integer reader
  write_npy(dir.file("fl.npy"), f.data(), 4, 2);
  CHECK_THROWS_WITH(load_features(dir.file("f.npy"), dir.file("fl.npy")), Catch::Contains("fl.npy"));
}
