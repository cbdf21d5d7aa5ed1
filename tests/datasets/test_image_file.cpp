// Image decoding through libpng and libjpeg-turbo: real PNG and JPEG bytes decode; bad files fail
// with the file name; the hostile inputs kept in tests/fuzz/corpus/png/ and jpeg/ (a JPEG table that overran stb_image,
// decompression bombs, a truncated file, a FIFO) are refused cleanly and at once.
#include <catch2/catch.hpp>

#include "datasets/image_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace torus::datasets;

namespace {
// A 2x1 8-bit grey PNG (pixels 0 and 255), written byte for byte.
const unsigned char kPng2x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0xd1, 0x49, 0x20, 0x56, 0x00, 0x00, 0x00,
    0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0xf8, 0x0f, 0x00, 0x01, 0x02, 0x01, 0x00, 0xd1, 0x1a,
    0xcb, 0x8f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

std::string write_file(const std::string& name, const unsigned char* data, size_t size) {
  std::ofstream out(name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return name;
}
}  // namespace

TEST_CASE("a PNG decodes to grey and to RGB", "[datasets]") {
  const std::string path = write_file("test_2x1.png", kPng2x1, sizeof kPng2x1);
  const Image grey = read_image(path, 1);
  CHECK(grey.width == 2);
  CHECK(grey.height == 1);
  REQUIRE(grey.pixels.size() == 2);
  CHECK(grey.pixels[0] == 0);
  CHECK(grey.pixels[1] == 255);
  const Image rgb = read_image(path, 3);
  REQUIRE(rgb.pixels.size() == 6);
  CHECK(rgb.pixels[3] == 255);
  CHECK_THROWS_WITH(read_image(path, 1, 1), Catch::Contains(path) && Catch::Contains("2x1"));
  std::remove(path.c_str());
}

TEST_CASE("missing, truncated and foreign files fail with the file name", "[datasets]") {
  CHECK_THROWS_WITH(read_image("no_such_file.png", 1), Catch::Contains("no_such_file.png"));
  const std::string truncated = write_file("test_truncated.png", kPng2x1, 40);
  CHECK_THROWS_AS(read_image(truncated, 1), DataError);
  const unsigned char bmp[] = {'B', 'M', 0x3a, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0, 0x28, 0, 0, 0};
  const std::string foreign = write_file("test_foreign.bmp", bmp, sizeof bmp);  // BMP is not compiled in
  CHECK_THROWS_WITH(read_image(foreign, 3), Catch::Contains("test_foreign.bmp"));
  std::remove(truncated.c_str());
  std::remove(foreign.c_str());
}

namespace {
// The kept files live in the fuzz corpus of their decoder (png/ or jpeg/).
std::string corpus(const std::string& name) {
  const bool png = name.size() > 4 && name.compare(name.size() - 4, 4, ".png") == 0;
  return std::string(TORUS_FUZZ_CORPUS) + (png ? "/png/" : "/jpeg/") + name;
}
}  // namespace

TEST_CASE("the kept valid corpus files decode to their exact pixels", "[datasets]") {
  const Image png = read_image(corpus("valid_4x3_grey.png"), 1);
  REQUIRE(png.width == 4);
  REQUIRE(png.height == 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) CHECK(png.pixels[size_t(4 * y + x)] == 10 * y + x);
  const Image png_rgb = read_image(corpus("valid_4x3_grey.png"), 3);
  CHECK(png_rgb.pixels[3 * 5 + 0] == 11);  // grey replicated
  CHECK(png_rgb.pixels[3 * 5 + 2] == 11);
  // JPEG is lossy: the 16x16 gradient (R = 16 x, G = 16 y, B = 128) comes back within a few levels.
  const Image jpg = read_image(corpus("valid_16x16.jpg"), 3);
  REQUIRE(jpg.width == 16);
  REQUIRE(jpg.height == 16);
  int worst = 0;
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) {
      const uint8_t* p = &jpg.pixels[size_t(3 * (16 * y + x))];
      worst = std::max({worst, std::abs(p[0] - 16 * x), std::abs(p[1] - 16 * y), std::abs(p[2] - 128)});
    }
  CHECK(worst <= 12);
  // Grey from colour: stb_image's luma, (77 R + 150 G + 29 B) >> 8, taken from the RGB pixels.
  const Image jpg_grey = read_image(corpus("valid_16x16.jpg"), 1);
  REQUIRE(jpg_grey.pixels.size() == 256);
  CHECK(std::abs(int(jpg_grey.pixels[17]) - ((77 * 16 + 150 * 16 + 29 * 128) >> 8)) <= 6);
}

TEST_CASE("hostile images are refused with the file and the reason", "[datasets]") {
  // Huffman counts summing to 512: stb_image 2.27 wrote past its 257-entry tables here.
  const std::string dht = corpus("jpeg_dht_counts_over_256.jpg");
  CHECK_THROWS_WITH(read_image(dht, 3), Catch::Contains(dht) && Catch::Contains("Huffman"));
  // A truncated JPEG is an error, not a half-grey image.
  const std::string cut = corpus("jpeg_truncated.jpg");
  CHECK_THROWS_WITH(read_image(cut, 3), Catch::Contains(cut) && Catch::Contains("corrupt JPEG") && Catch::Contains("Premature end"));
  // Decompression bombs: the declared size is refused from the header, before any allocation.
  const std::string bomb = corpus("png_bomb_16384x16384.png");
  CHECK_THROWS_WITH(read_image(bomb, 3), Catch::Contains(bomb) && Catch::Contains("16384x16384") && Catch::Contains("pixels"));
  const std::string wide = corpus("png_bomb_9000x9000.png");
  CHECK_THROWS_WITH(read_image(wide, 1), Catch::Contains("9000x9000") && Catch::Contains("67108864 pixels"));
  ImageLimits small;
  small.max_pixels = 11;
  CHECK_THROWS_WITH(read_image(corpus("valid_4x3_grey.png"), 1, small), Catch::Contains("4x3"));
  small = ImageLimits{};
  small.max_file_bytes = 79;
  CHECK_THROWS_WITH(read_image(corpus("valid_4x3_grey.png"), 1, small), Catch::Contains("79-byte limit"));
  // A FIFO named like an image is refused without waiting for a writer.
  const std::string fifo = (std::filesystem::temp_directory_path() / ("torus_fifo_" + std::to_string(::getpid()) + ".png")).string();
  ::unlink(fifo.c_str());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(read_image(fifo, 1), Catch::Contains(fifo) && Catch::Contains("not a regular file"));
  ::unlink(fifo.c_str());
}

TEST_CASE("every PNG and JPEG layout decodes to the pixels it holds", "[datasets]") {
  // The 8x6 pattern (30 x, 40 y, 200), saved by PIL as RGBA, interlaced, 16-bit grey, palette,
  // progressive, grey and CMYK files (tests/fuzz/corpus/png, jpeg).
  const auto expect_pattern = [](const Image& img, int tolerance) {
    REQUIRE(img.width == 8);
    REQUIRE(img.height == 6);
    int worst = 0;
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 8; ++x) {
        const uint8_t* p = &img.pixels[size_t(3 * (8 * y + x))];
        worst = std::max({worst, std::abs(p[0] - 30 * x), std::abs(p[1] - 40 * y), std::abs(p[2] - 200)});
      }
    CHECK(worst <= tolerance);
  };
  expect_pattern(read_image(corpus("rgba_8x6.png"), 3), 0);        // alpha dropped
  expect_pattern(read_image(corpus("interlaced_8x6.png"), 3), 0);  // Adam7 reassembled
  expect_pattern(read_image(corpus("progressive_8x6.jpg"), 3), 12);
  expect_pattern(read_image(corpus("cmyk_8x6.jpg"), 3), 12);  // Adobe CMYK back to RGB
  const Image rgba_grey = read_image(corpus("rgba_8x6.png"), 1);
  CHECK(rgba_grey.pixels[8 + 2] == (77 * 60 + 150 * 40 + 29 * 200) >> 8);  // luma of (60, 40, 200)
  const Image grey16 = read_image(corpus("grey16_5x4.png"), 1);
  REQUIRE(grey16.pixels.size() == 20);
  CHECK(grey16.pixels[7] == 40000 >> 8);  // 16-bit samples keep their high byte
  const Image palette = read_image(corpus("palette_8x6.png"), 3);
  CHECK(palette.width == 8);
  CHECK(palette.pixels.size() == 8 * 6 * 3);
  const Image grey_jpg = read_image(corpus("grey_8x6.jpg"), 3);
  CHECK(grey_jpg.pixels[0] == grey_jpg.pixels[1]);  // grey replicated to RGB
  CHECK(grey_jpg.pixels[1] == grey_jpg.pixels[2]);
}
