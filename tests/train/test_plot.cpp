// Plots take user text (class names, titles): non-ASCII text must draw safely, never index
// stb_easy_font's glyph table with a negative char.
#include <catch2/catch.hpp>

#include "nn/io/atomic_file.hpp"
#include "train/plot.hpp"

#include <cstdio>
#include <filesystem>

using namespace torus;

TEST_CASE("class names in UTF-8 draw as one '?' per character", "[train][plot]") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string utf8 = (dir / "torus_plot_utf8.png").string(), ascii = (dir / "torus_plot_ascii.png").string();
  const std::vector<float> x = {0.1f, 0.6f, 0.3f}, y = {0.2f, 0.7f, 0.9f};
  const std::vector<int> labels = {0, 1, 2};
  // "café", "日本", a lone continuation byte and a truncated sequence (invalid UTF-8)
  train::write_torus_scatter(utf8, "t\xc3\xa9st", "x", "y", x, y, labels,
                             {"caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "a\x80" "b\xe6\x97"});
  train::write_torus_scatter(ascii, "t?st", "x", "y", x, y, labels, {"caf?", "??", "a?b??"});
  CHECK(nn::io::read_file(utf8) == nn::io::read_file(ascii));
  std::remove(utf8.c_str());
  std::remove(ascii.c_str());
}
