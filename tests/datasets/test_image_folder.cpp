// Image folders: class and file order, PNG pixels exact in planar layout, grey and RGB,
// resampling, JPEG, and every error naming the folder or file.
#include <catch2/catch.hpp>

#include "datasets/image_folder.hpp"
#include "temp_dir.hpp"

#include <stb_image_write.h>

#include <filesystem>

using namespace torus::datasets;
using torus::testing::TempDir;
using torus::testing::write_bytes;
namespace fs = std::filesystem;

namespace {
// An RGB image (h, w, 3) interleaved, as stb writes it: pixel (y, x) = (base + 10 y + x, 2 y, 255 - x).
std::vector<uint8_t> rgb_pattern(int h, int w, int base) {
  std::vector<uint8_t> px;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      px.push_back(uint8_t(base + 10 * y + x));
      px.push_back(uint8_t(2 * y));
      px.push_back(uint8_t(255 - x));
    }
  return px;
}

void write_png(const fs::path& path, int h, int w, int comp, const std::vector<uint8_t>& px) {
  fs::create_directories(path.parent_path());
  REQUIRE(stbi_write_png(path.string().c_str(), w, h, comp, px.data(), w * comp) != 0);
}
}  // namespace

TEST_CASE("an image folder: classes and files in name order, planar pixels", "[datasets][image_folder]") {
  TempDir dir("folder");
  const fs::path root = dir.path();
  write_png(root / "cat" / "b.png", 3, 4, 3, rgb_pattern(3, 4, 100));
  write_png(root / "cat" / "a.PNG", 3, 4, 3, rgb_pattern(3, 4, 50));  // upper-case extension, sorts first
  write_png(root / "ant" / "1.png", 3, 4, 3, rgb_pattern(3, 4, 0));
  std::vector<uint8_t> dog(16 * 16 * 3);
  for (size_t i = 0; i < dog.size(); i += 3) dog[i] = 200, dog[i + 1] = 100, dog[i + 2] = 50;
  fs::create_directories(root / "dog");
  REQUIRE(stbi_write_jpg((root / "dog" / "x.JPEG").string().c_str(), 16, 16, 3, dog.data(), 95) != 0);
  // skipped: other extensions, hidden entries, files at the root
  write_bytes((root / "cat" / "notes.txt").string(), std::string("not an image"));
  write_png(root / "cat" / ".hidden.png", 3, 4, 3, rgb_pattern(3, 4, 1));
  write_png(root / ".cache" / "z.png", 3, 4, 3, rgb_pattern(3, 4, 1));
  write_bytes((root / "readme.md").string(), std::string("#"));

  // the dog JPEG is 16x16: it is resampled to 3x4 (area averaging of a constant colour)
  const ImageSet set = load_image_folder(root.string(), 3, 3, 4);
  REQUIRE(set.n == 4);
  CHECK(set.channels == 3);
  CHECK(set.height == 3);
  CHECK(set.width == 4);
  CHECK(set.classes == 3);
  CHECK(set.class_names == std::vector<std::string>{"ant", "cat", "dog"});
  CHECK(set.labels == std::vector<int>{0, 1, 1, 2});
  REQUIRE(set.pixels.size() == size_t(4 * 3 * 12));
  // image 1 is cat/a.PNG (base 50); planar: red plane, then green, then blue
  const uint8_t* a = set.pixels.data() + 1 * 36;
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) {
      CHECK(a[0 * 12 + y * 4 + x] == 50 + 10 * y + x);
      CHECK(a[1 * 12 + y * 4 + x] == 2 * y);
      CHECK(a[2 * 12 + y * 4 + x] == 255 - x);
    }
  CHECK(set.pixels[2 * 36] == 100);  // cat/b.png
  CHECK(set.pixels[0] == 0);         // ant/1.png
  // JPEG is lossy: the constant colour comes back within a few levels
  const uint8_t* jpg = set.pixels.data() + 3 * 36;
  for (int p = 0; p < 12; ++p) {
    CHECK(std::abs(int(jpg[p]) - 200) <= 3);
    CHECK(std::abs(int(jpg[12 + p]) - 100) <= 3);
    CHECK(std::abs(int(jpg[24 + p]) - 50) <= 3);
  }
}

TEST_CASE("image folders in grey, shrunk and grown", "[datasets][image_folder]") {
  TempDir dir("folder_grey");
  // 4x4 grey in 2x2 blocks of 10, 20 / 30, 40: shrinking to 2x2 gives the blocks exactly
  std::vector<uint8_t> blocks(16);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) blocks[size_t(y * 4 + x)] = uint8_t(10 + 20 * (y / 2) + 10 * (x / 2));
  write_png(dir.path() / "only" / "blocks.png", 4, 4, 1, blocks);
  const ImageSet small = load_image_folder(dir.path().string(), 1, 2, 2);
  CHECK(small.channels == 1);
  CHECK(small.pixels == std::vector<uint8_t>{10, 20, 30, 40});
  // 1x2 (0, 200) grown to 1x4: bilinear between the centres
  TempDir dir2("folder_grow");
  write_png(dir2.path() / "c" / "two.png", 1, 2, 1, {0, 200});
  const ImageSet big = load_image_folder(dir2.path().string(), 1, 1, 4);
  CHECK(big.pixels == std::vector<uint8_t>{0, 50, 150, 200});
  // a grey file read as RGB repeats the grey value on the three planes
  const ImageSet rgb = load_image_folder(dir2.path().string(), 3, 1, 2);
  CHECK(rgb.pixels == std::vector<uint8_t>{0, 200, 0, 200, 0, 200});
}

TEST_CASE("image folder errors name the folder or the file", "[datasets][image_folder]") {
  TempDir dir("folder_bad");
  const fs::path root = dir.path();
  CHECK_THROWS_WITH(load_image_folder((root / "missing").string(), 3, 8, 8),
                    Catch::Contains("missing") && Catch::Contains("image folder not found"));
  write_bytes((root / "loose.png").string(), std::string("x"));
  CHECK_THROWS_WITH(load_image_folder(root.string(), 3, 8, 8), Catch::Contains(root.string()) && Catch::Contains("no class folders"));
  fs::create_directories(root / "empty");
  write_bytes((root / "empty" / "list.txt").string(), std::string("1"));
  CHECK_THROWS_WITH(load_image_folder(root.string(), 3, 8, 8), Catch::Contains("empty") && Catch::Contains("class folder without images"));
  fs::remove_all(root / "empty");

  write_png(root / "good" / "a.png", 2, 2, 3, rgb_pattern(2, 2, 0));
  write_bytes((root / "good" / "b.png").string(), std::string("this is not a PNG"));
  CHECK_THROWS_WITH(load_image_folder(root.string(), 3, 8, 8), Catch::Contains("b.png"));
  // a truncated PNG: the header is fine, the data is not
  std::ifstream in((root / "good" / "a.png").string(), std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_bytes((root / "good" / "b.png").string(), png.substr(0, png.size() / 2));
  CHECK_THROWS_WITH(load_image_folder(root.string(), 3, 8, 8), Catch::Contains("b.png"));
  write_bytes((root / "good" / "b.png").string(), std::string());
  CHECK_THROWS_WITH(load_image_folder(root.string(), 3, 8, 8), Catch::Contains("b.png"));
  fs::remove(root / "good" / "b.png");
  CHECK(load_image_folder(root.string(), 3, 8, 8).n == 1);

  CHECK_THROWS_AS(load_image_folder(root.string(), 2, 8, 8), std::invalid_argument);
  CHECK_THROWS_AS(load_image_folder(root.string(), 3, 0, 8), std::invalid_argument);
}

TEST_CASE("a test folder is labelled by the training classes' names", "[datasets][image_folder]") {
  // The defect: a test folder missing one class took labels from its own sorted list, so every
  // label after the gap shifted ("bird" became 0) and a perfect model scored 0.
  TempDir dir("folder_by_name");
  const fs::path test = dir.path() / "test";
  write_png(test / "bird" / "1.png", 2, 2, 3, rgb_pattern(2, 2, 10));
  write_png(test / "dog" / "1.png", 2, 2, 3, rgb_pattern(2, 2, 20));
  write_png(test / "dog" / "2.png", 2, 2, 3, rgb_pattern(2, 2, 30));
  const std::vector<std::string> train_classes = {"ant", "bird", "cat", "dog"};
  const ImageSet set = load_image_folder(test.string(), 3, 2, 2, train_classes);
  CHECK(set.n == 3);
  CHECK(set.classes == 4);
  CHECK(set.class_names == train_classes);
  CHECK(set.labels == std::vector<int>{1, 3, 3});
  // Without the training classes the same folder numbers its own two classes 0 and 1.
  CHECK(load_image_folder(test.string(), 3, 2, 2).labels == std::vector<int>{0, 1, 1});
  // A class the training set never had is refused, naming it and the known classes.
  write_png(test / "emu" / "1.png", 2, 2, 3, rgb_pattern(2, 2, 40));
  CHECK_THROWS_WITH(load_image_folder(test.string(), 3, 2, 2, train_classes),
                    Catch::Contains("emu") && Catch::Contains("not one of the 4 training classes") &&
                        Catch::Contains("ant, bird, cat, dog"));
}

TEST_CASE("an image folder's pixels are bounded before anything is decoded", "[datasets][image_folder]") {
  TempDir dir("folder_limit");
  for (int i = 0; i < 11; ++i) write_png(dir.path() / "c" / (std::to_string(i) + ".png"), 2, 2, 3, rgb_pattern(2, 2, i));
  // 11 images resized to 3 x 16384 x 16384 would take 8.9 GB: refused from the listing alone.
  CHECK_THROWS_WITH(load_image_folder(dir.path().string(), 3, 16384, 16384),
                    Catch::Contains("11 images of 3x16384x16384") && Catch::Contains("8589934592-byte limit"));
  CHECK(load_image_folder(dir.path().string(), 3, 4, 4).n == 11);
}
