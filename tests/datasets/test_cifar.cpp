// CIFAR-10 / CIFAR-100 binary files, generated here in the exact format (the real ones are not on
// the test machines): record layout, plane order, file order, label names, both folder layouts,
// and every size / count / label check naming the file.
#include <catch2/catch.hpp>

#include "datasets/cifar.hpp"
#include "temp_dir.hpp"

#include <filesystem>
#include <iterator>

using namespace torus::datasets;
using torus::testing::TempDir;
using torus::testing::write_bytes;
namespace fs = std::filesystem;

namespace {
constexpr int64_t kPixels = 3072;

// The pixel (c, y, x) of image i: distinct per plane, row and column.
uint8_t pixel(int64_t i, int c, int y, int x) { return uint8_t((i * 31 + c * 101 + y * 7 + x * 3) & 255); }
int fine_label(int64_t i) { return int((i * 7 + 3) % 100); }
int coarse_label(int64_t i) { return int((i * 3 + 1) % 20); }

// `records` records from image `first` on: CIFAR-10 (label i % 10) or CIFAR-100 (coarse, fine).
std::string write_cifar(const std::string& path, int64_t records, int64_t first, bool cifar100) {
  const int64_t record = kPixels + (cifar100 ? 2 : 1);
  std::vector<unsigned char> bytes(size_t(records * record));
  for (int64_t r = 0; r < records; ++r) {
    unsigned char* p = bytes.data() + r * record;
    const int64_t i = first + r;
    if (cifar100) {
      *p++ = uint8_t(coarse_label(i));
      *p++ = uint8_t(fine_label(i));
    } else {
      *p++ = uint8_t(i % 10);
    }
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) *p++ = pixel(i, c, y, x);
  }
  return write_bytes(path, bytes);
}

// Every pixel of image i of the set is the generated one.
bool image_matches(const ImageSet& set, int64_t i) {
  const uint8_t* img = set.pixels.data() + i * kPixels;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        if (img[(c * 32 + y) * 32 + x] != pixel(i, c, y, x)) return false;
  return true;
}

// A valid file of `records` all-zero records (label 0, black), made sparse so it costs no disk
// time, with the generated records of images `written` (file position = image - first) in place.
std::string sparse_cifar(const std::string& path, int64_t records, int64_t first, bool cifar100,
                         const std::vector<int64_t>& written) {
  const int64_t record = kPixels + (cifar100 ? 2 : 1);
  write_bytes(path, std::string());
  fs::resize_file(path, uintmax_t(records * record));
  for (int64_t i : written) {
    TempDir one("cifar_record");
    write_cifar(one.file("r.bin"), 1, i, cifar100);
    std::ifstream in(one.file("r.bin"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp((i - first) * record);
    f.write(bytes.data(), std::streamsize(bytes.size()));
  }
  return path;
}

void set_byte(const std::string& path, int64_t offset, unsigned char value) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(offset);
  f.put(char(value));
}
}  // namespace

TEST_CASE("CIFAR-10 test split: records, planes, labels and names", "[datasets][cifar]") {
  TempDir dir("cifar10_test");
  // the layout of the extracted archive: dir/cifar-10-batches-bin/
  const fs::path folder = dir.path() / "cifar-10-batches-bin";
  write_cifar((folder / "test_batch.bin").string(), 10000, 0, false);
  write_bytes((folder / "batches.meta.txt").string(),
              std::string("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"));
  const ImageSet set = load_cifar10(dir.path().string(), "test");
  CHECK(set.n == 10000);
  CHECK(set.channels == 3);
  CHECK(set.height == 32);
  CHECK(set.width == 32);
  CHECK(set.classes == 10);
  REQUIRE(set.pixels.size() == size_t(10000 * kPixels));
  REQUIRE(set.labels.size() == 10000);
  for (int64_t i : {0, 1, 4321, 9999}) CHECK(image_matches(set, i));
  bool labels_ok = true;
  for (int64_t i = 0; i < set.n; ++i) labels_ok = labels_ok && set.labels[size_t(i)] == i % 10;
  CHECK(labels_ok);
  // the red plane comes first: pixel (c=0, 0, 0) is the first pixel byte of the record
  CHECK(set.pixels[0] == pixel(0, 0, 0, 0));
  CHECK(set.pixels[1024] == pixel(0, 1, 0, 0));
  REQUIRE(set.class_names.size() == 10);
  CHECK(set.class_names[0] == "airplane");
  CHECK(set.class_names[9] == "truck");

  // the extracted folder itself works as well; without the names file, classes are unnamed
  fs::remove(folder / "batches.meta.txt");
  const ImageSet direct = load_cifar10(folder.string(), "test");
  CHECK(direct.n == 10000);
  CHECK(direct.class_names.empty());
  CHECK(direct.pixels == set.pixels);
}

TEST_CASE("CIFAR-10 train split reads the five batches in order", "[datasets][cifar]") {
  TempDir dir("cifar10_train");
  const std::vector<int64_t> probes = {0, 9999, 10000, 23456, 49999};
  for (int b = 0; b < 5; ++b) {
    std::vector<int64_t> mine;
    for (int64_t i : probes)
      if (i / 10000 == b) mine.push_back(i);
    sparse_cifar(dir.file("data_batch_" + std::to_string(b + 1) + ".bin"), 10000, b * 10000, false, mine);
  }
  const ImageSet set = load_cifar10(dir.path().string(), "train");
  REQUIRE(set.n == 50000);
  for (int64_t i : probes) {
    INFO("image " << i);
    CHECK(image_matches(set, i));
    CHECK(set.labels[size_t(i)] == i % 10);
  }
  CHECK(set.labels[1] == 0);  // a zero record between them
  CHECK(set.pixels[kPixels + 5] == 0);
}

TEST_CASE("CIFAR-100 test split with fine and coarse labels", "[datasets][cifar]") {
  TempDir dir("cifar100");
  const fs::path folder = dir.path() / "cifar-100-binary";
  write_cifar((folder / "test.bin").string(), 10000, 0, true);
  std::string fine_names, coarse_names;
  for (int c = 0; c < 100; ++c) fine_names += "fine" + std::to_string(c) + "\r\n";
  for (int c = 0; c < 20; ++c) coarse_names += "coarse" + std::to_string(c) + "\n";
  write_bytes((folder / "fine_label_names.txt").string(), fine_names);
  write_bytes((folder / "coarse_label_names.txt").string(), coarse_names);

  const ImageSet fine = load_cifar100(dir.path().string(), "test", CifarLabels::fine);
  const ImageSet coarse = load_cifar100(dir.path().string(), "test", CifarLabels::coarse);
  CHECK(fine.n == 10000);
  CHECK(fine.classes == 100);
  CHECK(coarse.classes == 20);
  CHECK(fine.pixels == coarse.pixels);
  for (int64_t i : {0, 17, 5000, 9999}) {
    INFO("image " << i);
    CHECK(image_matches(fine, i));
    CHECK(fine.labels[size_t(i)] == fine_label(i));
    CHECK(coarse.labels[size_t(i)] == coarse_label(i));
  }
  REQUIRE(fine.class_names.size() == 100);
  CHECK(fine.class_names[42] == "fine42");  // '\r' stripped
  REQUIRE(coarse.class_names.size() == 20);
  CHECK(coarse.class_names[19] == "coarse19");
}

TEST_CASE("CIFAR-100 train split holds 50000 records", "[datasets][cifar]") {
  TempDir dir("cifar100_train");
  sparse_cifar(dir.file("train.bin"), 50000, 0, true, {3, 49999});
  const ImageSet set = load_cifar100(dir.path().string(), "train", CifarLabels::fine);
  REQUIRE(set.n == 50000);
  CHECK(image_matches(set, 3));
  CHECK(image_matches(set, 49999));
  CHECK(set.labels[3] == fine_label(3));
  CHECK(set.labels[49999] == fine_label(49999));
}

TEST_CASE("malformed CIFAR files fail naming the file, the expectation and the finding", "[datasets][cifar]") {
  TempDir dir("cifar_bad");
  const std::string ten = dir.file("test_batch.bin"), hundred = dir.file("test.bin");
  const std::string d = dir.path().string();

  CHECK_THROWS_WITH(load_cifar10(dir.file("nowhere"), "test"),
                    Catch::Contains("nowhere") && Catch::Contains("no CIFAR-10 binary files") &&
                        Catch::Contains("cifar-10-batches-bin"));
  CHECK_THROWS_AS(load_cifar10(d, "validation"), std::invalid_argument);
  CHECK_THROWS_AS(load_cifar100(d, "val", CifarLabels::fine), std::invalid_argument);

  // sizes: checked before anything is read, so resize_file makes each case cheaply
  struct SizeCase {
    int64_t size;
    std::string message;
  };
  sparse_cifar(ten, 10000, 0, false, {});
  const int64_t full10 = 10000 * 3073;
  for (const SizeCase& c : std::vector<SizeCase>{
           {0, "0 CIFAR-10 records, expected 10000"},
           {full10 - 1, "is not a whole number of 3073-byte CIFAR-10 records (expected 30730000 bytes)"},
           {full10 + 1, "is not a whole number of 3073-byte"},
           {full10 - 3073, "9999 CIFAR-10 records, expected 10000"},
           {full10 + 3073, "10001 CIFAR-10 records, expected 10000"},
           {1, "size 1 bytes"}}) {
    INFO("size " << c.size);
    fs::resize_file(ten, uintmax_t(c.size));
    CHECK_THROWS_WITH(load_cifar10(d, "test"), Catch::Contains(ten) && Catch::Contains(c.message));
  }
  sparse_cifar(hundred, 10000, 0, true, {});
  const int64_t full100 = 10000 * 3074;
  for (const SizeCase& c : std::vector<SizeCase>{{0, "0 CIFAR-100 records, expected 10000"},
                                                 {full100 - 2, "not a whole number of 3074-byte CIFAR-100 records"},
                                                 {full100 + 3074, "10001 CIFAR-100 records, expected 10000"},
                                                 {full10, "not a whole number of 3074-byte"}}) {
    INFO("size " << c.size);
    fs::resize_file(hundred, uintmax_t(c.size));
    CHECK_THROWS_WITH(load_cifar100(d, "test", CifarLabels::coarse), Catch::Contains(hundred) && Catch::Contains(c.message));
  }

  // labels out of range, in either label byte of CIFAR-100
  sparse_cifar(ten, 10000, 0, false, {});
  set_byte(ten, 17 * 3073, 10);
  CHECK_THROWS_WITH(load_cifar10(d, "test"), Catch::Contains(ten) && Catch::Contains("record 17 has label 10, expected [0, 10)"));
  sparse_cifar(hundred, 10000, 0, true, {});
  set_byte(hundred, 5 * 3074, 20);  // coarse: refused even when the fine labels are asked for
  CHECK_THROWS_WITH(load_cifar100(d, "test", CifarLabels::fine),
                    Catch::Contains(hundred) && Catch::Contains("record 5 has label 20, expected [0, 20)"));
  sparse_cifar(hundred, 10000, 0, true, {});
  set_byte(hundred, 9999 * 3074 + 1, 100);
  CHECK_THROWS_WITH(load_cifar100(d, "test", CifarLabels::coarse),
                    Catch::Contains("record 9999 has label 100, expected [0, 100)"));

  // a train split with a batch missing, and a batch that is a folder
  TempDir train("cifar_bad_train");
  for (int b : {1, 2, 3, 5}) sparse_cifar(train.file("data_batch_" + std::to_string(b) + ".bin"), 10000, 0, false, {});
  CHECK_THROWS_WITH(load_cifar10(train.path().string(), "train"),
                    Catch::Contains("data_batch_4.bin") && Catch::Contains("cannot open"));
  fs::create_directory(train.file("data_batch_4.bin"));
  CHECK_THROWS_WITH(load_cifar10(train.path().string(), "train"),
                    Catch::Contains("data_batch_4.bin") && Catch::Contains("not a regular file"));

  // a names file that does not name every class
  sparse_cifar(ten, 10000, 0, false, {});
  write_bytes(dir.file("batches.meta.txt"), std::string("a\nb\nc\n"));
  CHECK_THROWS_WITH(load_cifar10(d, "test"), Catch::Contains("batches.meta.txt") && Catch::Contains("3 class names, expected 10"));
}
