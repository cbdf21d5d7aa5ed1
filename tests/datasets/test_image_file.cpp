// Image decoding through our stb build: real PNG bytes decode; bad files fail with the file name.
#include <catch2/catch.hpp>

#include "datasets/image_file.hpp"

#include <cstdio>
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
