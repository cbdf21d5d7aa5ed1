// The code index file refuses what it cannot trust, naming the file and saying which: a truncated
// file, a foreign one (magic), another format version, header fields out of range or whose sizes
// overflow, trailing bytes, and (verify only: open does not read the codes) a flipped byte.
#include "io_test_util.hpp"

#include "geometry/code_index.hpp"
#include "nn/io/code_index_file.hpp"

#include <random>

using namespace torus;
using namespace torus::testing;
using geometry::CodeIndex;
using geometry::CodeKind;
using geometry::TorusHead;
using nn::io::FormatError;

namespace {
// A small valid 1-bit index (quantiser section, codes and ids all present): torusC, D = 4, N = 5.
std::string valid_index(const ScratchDir& dir, CodeKind kind = CodeKind::one_bit) {
  geometry::RowMatrix<float> h(5, 4);
  h << 0.1f, 0.7f, 0.3f, 0.9f, 0.6f, 0.2f, 0.8f, 0.4f, 0.35f, 0.05f, 0.55f, 0.25f, 0.9f, 0.95f, 0.15f, 0.6f, 0.45f, 0.5f, 0.7f, 0.1f;
  const std::string path = dir.file("index.tidx");
  nn::io::save_code_index(CodeIndex::build(kind, TorusHead::torusC, h), path);
  return path;
}

std::string with(std::string bytes, std::size_t offset, const std::string& patch) {
  bytes.replace(offset, patch.size(), patch);
  return bytes;
}
}  // namespace

TEST_CASE("code index file: the layout of the header table", "[code_index]") {
  ScratchDir dir("code_index_layout");
  const std::string bytes = file_bytes(valid_index(dir));
  CHECK(bytes.substr(0, 8) == "TORUSIDX");
  CHECK(bytes.substr(8, 4) == le_bytes<std::uint32_t>(1));
  CHECK(bytes.substr(12, 4) == le_bytes<std::uint32_t>(4));  // 1bit
  CHECK(bytes.substr(16, 4) == le_bytes<std::uint32_t>(1));  // torusC
  CHECK(bytes.substr(24, 8) == le_bytes<std::uint64_t>(4));
  CHECK(bytes.substr(32, 8) == le_bytes<std::uint64_t>(5));
  // 64 header + 64 grid range (4 minima, 4 maxima) -> codes at 128, 5 words -> ids at 192, CRC at 232
  CHECK(bytes.substr(40, 8) == le_bytes<std::uint64_t>(236));
  REQUIRE(bytes.size() == 236);
  CHECK(bytes.substr(192, 8) == le_bytes<std::int64_t>(0));
  CHECK(bytes.substr(224, 8) == le_bytes<std::int64_t>(4));
}

TEST_CASE("code index file: truncated, foreign, wrong version and corrupt files are refused by name", "[code_index]") {
  ScratchDir dir("code_index_bad");
  const std::string path = valid_index(dir);
  const std::string good = file_bytes(path);
  const std::string bad = dir.file("bad.tidx");
  const auto refused = [&](const std::string& bytes, std::initializer_list<std::string> fragments) {
    write_bytes(bad, bytes);
    require_throws_with<FormatError>([&] { nn::io::load_code_index(bad); }, fragments);
    require_throws_with<FormatError>([&] { nn::io::verify_code_index_file(bad); }, fragments);
  };
  refused(good.substr(0, good.size() - 1), {bad, "truncated", "235 bytes", "records 236"});
  refused(good.substr(0, 40), {bad, "truncated", "40 bytes", "fewer than the 68"});
  refused("", {bad, "truncated", "0 bytes"});
  refused(with(good, 0, "NOTANIDX"), {bad, "not a torus code index", "\"NOTANIDX\"", "TORUSIDX"});
  refused("PK\x03\x04", {bad, "not a torus code index", "PK\\x03\\x04"});
  refused(with(good, 8, le_bytes<std::uint32_t>(2)), {bad, "format version 2", "reads version 1"});
  refused(with(good, 12, le_bytes<std::uint32_t>(9)), {bad, "corrupt", "\"kind\" is 9", "expected 0..5"});
  refused(with(good, 16, le_bytes<std::uint32_t>(2)), {bad, "\"head\" is 2"});
  refused(with(good, 24, le_bytes<std::uint64_t>(1'000'000)), {bad, "\"dim\" is 1000000", "1..65536"});
  refused(with(good, 32, le_bytes<std::uint64_t>(0)), {bad, "\"count\" is 0", "at least 1"});
  refused(with(good, 32, le_bytes<std::uint64_t>(std::uint64_t(1) << 62)), {bad, "corrupt", "overflows a 64-bit file size"});
  refused(with(good, 32, le_bytes<std::uint64_t>(6)), {bad, "\"file_size\" is 236", "take 244 bytes"});
  refused(good + "x", {bad, "corrupt", "237 bytes", "trailing"});
  // A collapsed 1-bit range (minimum = maximum in dimension 0) is not a quantiser.
  refused(with(good, 64, good.substr(96, 8)), {bad, "quantiser section", "collapsed"});
}

TEST_CASE("code index file: a flipped code byte opens, and verify names the CRC mismatch", "[code_index]") {
  ScratchDir dir("code_index_crc");
  const std::string path = valid_index(dir, CodeKind::u8);
  std::string bytes = file_bytes(path);
  nn::io::verify_code_index_file(path);
  bytes[64] = static_cast<char>(bytes[64] ^ 0x10);  // the first code byte
  write_bytes(path, bytes);
  const CodeIndex opened = nn::io::load_code_index(path);  // open reads only the header
  CHECK(opened.size() == 5);
  require_throws_with<FormatError>([&] { nn::io::verify_code_index_file(path); },
                                   {path, "corrupt", "CRC-32 of the first", "the file records"});
}

TEST_CASE("code index file: a missing file or a folder is an IoError naming the path", "[code_index]") {
  ScratchDir dir("code_index_missing");
  require_throws_with<nn::io::IoError>([&] { nn::io::load_code_index(dir.file("none.tidx")); }, {dir.file("none.tidx"), "cannot open"});
  require_throws_with<nn::io::IoError>([&] { nn::io::load_code_index(dir.path().string()); }, {"not a regular file"});
}
