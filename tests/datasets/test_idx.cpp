// IDX reading: real Fashion-MNIST, and every malformed-file case failing with the file named.
#include <catch2/catch.hpp>

#include "datasets/idx.hpp"

#include <zlib.h>

#include <cstdio>
#include <fstream>

using namespace torus::datasets;

namespace {
std::vector<unsigned char> idx_bytes(std::vector<uint32_t> dims, size_t payload, unsigned char fill = 1) {
  std::vector<unsigned char> b = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(d >> s));
  b.insert(b.end(), payload, fill);
  return b;
}

std::string write_raw(const std::string& name, const std::vector<unsigned char>& bytes) {
  std::ofstream(name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return name;
}

std::string write_gz(const std::string& name, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(name.c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
  return name;
}
}  // namespace

TEST_CASE("Fashion-MNIST from the Debian package", "[datasets]") {
  const ImageSet train = load_fashion_mnist("train");
  CHECK(train.n == 60000);
  CHECK(train.height == 28);
  CHECK(train.width == 28);
  CHECK(train.labels[0] == 9);  // the first training image is an ankle boot
  const ImageSet test = load_fashion_mnist("test");
  CHECK(test.n == 10000);
  std::vector<int> per_class(10);
  for (int l : test.labels) ++per_class[l];
  for (int c = 0; c < 10; ++c) CHECK(per_class[c] == 1000);
  std::vector<float> x;
  normalized_images(train, {0, 1}, 0.2860f, 0.3530f, x);
  REQUIRE(x.size() == 2 * 784);
  CHECK(x[0] == Approx(-0.2860f / 0.3530f));  // a black corner pixel
}

TEST_CASE("raw and gzip IDX files give the same arrays", "[datasets]") {
  const auto bytes = idx_bytes({2, 3, 4}, 24, 7);
  const IdxArray raw = read_idx(write_raw("t_raw.idx", bytes), 3);
  const IdxArray gz = read_idx(write_gz("t_gz.idx.gz", bytes), 3);
  CHECK(raw.dims == std::vector<int64_t>{2, 3, 4});
  CHECK(raw.values == gz.values);
  std::remove("t_raw.idx");
  std::remove("t_gz.idx.gz");
}

TEST_CASE("malformed IDX files fail with the file, the expectation and the finding", "[datasets]") {
  struct Case {
    std::string name;
    std::vector<unsigned char> bytes;
    int rank;
    std::string message;
  };
  auto truncated = idx_bytes({2, 3, 4}, 24);
  truncated.resize(20);
  auto header_cut = idx_bytes({2, 3, 4}, 0);
  header_cut.resize(9);
  auto bad_magic = idx_bytes({5}, 5);
  bad_magic[0] = 0x1f;
  auto bad_type = idx_bytes({5}, 5);
  bad_type[2] = 0x0d;  // float
  const std::vector<Case> cases = {
      {"t_empty.idx", {}, 1, "empty or truncated IDX header"},
      {"t_header.idx", header_cut, 3, "truncated IDX header"},
      {"t_truncated.idx", truncated, 3, "truncated IDX data"},
      {"t_trailing.idx", idx_bytes({2, 3, 4}, 25), 3, "trailing bytes"},
      {"t_magic.idx", bad_magic, 1, "not an IDX file"},
      {"t_type.idx", bad_type, 1, "expected 8"},
      {"t_rank.idx", idx_bytes({5}, 5), 3, "IDX rank 1, expected 3"},
      {"t_huge.idx", idx_bytes({65536, 65536, 4}, 0), 3, "exceed"},
      {"t_zero.idx", idx_bytes({0, 28, 28}, 0), 3, "dimension 0 is 0"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    write_raw(c.name, c.bytes);
    CHECK_THROWS_WITH(read_idx(c.name, c.rank), Catch::Contains(c.name) && Catch::Contains(c.message));
    std::remove(c.name.c_str());
  }
  CHECK_THROWS_WITH(read_idx("t_missing.idx", 1), Catch::Contains("t_missing.idx") && Catch::Contains("cannot open"));
  // a corrupt gzip stream
  auto gz = idx_bytes({100}, 100);
  write_gz("t_corrupt.gz", gz);
  {
    std::fstream f("t_corrupt.gz", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.write("\xff\xff\xff\xff", 4);
  }
  CHECK_THROWS_WITH(read_idx("t_corrupt.gz", 1), Catch::Contains("t_corrupt.gz"));
  std::remove("t_corrupt.gz");
}

TEST_CASE("image and label files must agree", "[datasets]") {
  write_raw("t_images.idx", idx_bytes({3, 2, 2}, 12));
  write_raw("t_labels2.idx", idx_bytes({2}, 2));
  CHECK_THROWS_WITH(load_idx_images("t_images.idx", "t_labels2.idx"), Catch::Contains("2 labels for the 3 images"));
  write_raw("t_labels_bad.idx", idx_bytes({3}, 3, 12));
  CHECK_THROWS_WITH(load_idx_images("t_images.idx", "t_labels_bad.idx"),
                    Catch::Contains("t_labels_bad.idx") && Catch::Contains("label 12") && Catch::Contains("[0, 10)"));
  write_raw("t_labels.idx", idx_bytes({3}, 3, 4));
  const ImageSet set = load_idx_images("t_images.idx", "t_labels.idx");
  CHECK(set.n == 3);
  CHECK(set.labels[2] == 4);
  for (const char* f : {"t_images.idx", "t_labels2.idx", "t_labels_bad.idx", "t_labels.idx"}) std::remove(f);
}

TEST_CASE("an IDX header is bounded by the bytes present before anything is allocated", "[datasets]") {
  // 2.7 million 28x28 images declared in a 1 KB gzip file: 2.1 GB was allocated before reading.
  const std::string bomb = std::string(TORUS_FUZZ_CORPUS) + "/idx/idx_bomb_2700000_images.gz";
  CHECK_THROWS_WITH(read_idx(bomb, 3), Catch::Contains(bomb) && Catch::Contains("(2700000, 28, 28)") &&
                                           Catch::Contains("cannot hold them"));
  // A raw file must hold exactly the declared bytes.
  write_raw("t_raw_short.idx", idx_bytes({1000, 28, 28}, 100));
  CHECK_THROWS_WITH(read_idx("t_raw_short.idx", 3), Catch::Contains("784000 bytes") && Catch::Contains("cannot hold them"));
  std::remove("t_raw_short.idx");
  const IdxArray ok = read_idx(std::string(TORUS_FUZZ_CORPUS) + "/idx/valid_3x2x2.idx", 3);
  CHECK(ok.dims == std::vector<int64_t>{3, 2, 2});
  CHECK(ok.values[11] == 11);
}
