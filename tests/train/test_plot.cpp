// The plots as a reader meets them: each PNG decodes to its size and is not blank, each SVG is
// well-formed XML whose <text> elements hold the title, axis labels, legend entries and the
// truncation note; ticks never read "-0"; class names that are not UTF-8 draw a replacement.
#include <catch2/catch.hpp>

#include "datasets/image_file.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/plot.hpp"
#include "train/plot/axes.hpp"
#include "train/plot/canvas.hpp"
#include "train/plot/class_style.hpp"

#include <expat.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

using namespace torus;
namespace fs = std::filesystem;

namespace {
std::string fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("torus_test_plot_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// The character data of every <text> element, in order; fails the test if the SVG is not
// well-formed XML (expat also refuses invalid UTF-8 and control characters).
std::vector<std::string> svg_texts(const std::string& path) {
  struct State {
    std::vector<std::string> texts;
    bool in_text = false;
    bool svg_root = false;
  } state;
  XML_Parser parser = XML_ParserCreate("UTF-8");
  XML_SetUserData(parser, &state);
  XML_SetElementHandler(
      parser,
      [](void* data, const XML_Char* name, const XML_Char**) {
        auto* s = static_cast<State*>(data);
        if (std::string(name) == "svg") s->svg_root = true;
        if (std::string(name) == "text") s->in_text = true, s->texts.emplace_back();
      },
      [](void* data, const XML_Char* name) {
        if (std::string(name) == "text") static_cast<State*>(data)->in_text = false;
      });
  XML_SetCharacterDataHandler(parser, [](void* data, const XML_Char* text, int len) {
    auto* s = static_cast<State*>(data);
    if (s->in_text) s->texts.back().append(text, size_t(len));
  });
  const std::string svg = nn::io::read_file(path);
  const bool ok = XML_Parse(parser, svg.data(), int(svg.size()), 1) == XML_STATUS_OK;
  INFO(path << ": " << XML_ErrorString(XML_GetErrorCode(parser)) << " at line " << XML_GetCurrentLineNumber(parser));
  XML_ParserFree(parser);
  REQUIRE(ok);
  REQUIRE(state.svg_root);
  return state.texts;
}

bool has(const std::vector<std::string>& texts, const std::string& t) {
  return std::find(texts.begin(), texts.end(), t) != texts.end();
}

// The PNG decodes to width x height and has at least `min_share` of non-white pixels in
// `distinct` or more colours: drawn, not blank and not one flat fill.
void check_png(const std::string& path, int width, int height, double min_share = 0.01, size_t distinct = 3) {
  const datasets::Image image = datasets::read_image(path, 3);
  CHECK(image.width == width);
  CHECK(image.height == height);
  size_t inked = 0;
  std::set<uint32_t> colours;
  for (size_t i = 0; i + 2 < image.pixels.size(); i += 3) {
    const uint32_t rgb = uint32_t(image.pixels[i]) << 16 | uint32_t(image.pixels[i + 1]) << 8 | image.pixels[i + 2];
    if (rgb != 0xFFFFFF) ++inked;
    colours.insert(rgb);
  }
  CHECK(double(inked) / double(size_t(width) * height) >= min_share);
  CHECK(colours.size() >= distinct);
}

std::vector<std::string> tick_texts(const std::vector<std::string>& texts) {
  std::vector<std::string> ticks;
  for (const std::string& t : texts)
    if (std::regex_match(t, std::regex("-?[0-9]+(\\.[0-9]+)?"))) ticks.push_back(t);
  return ticks;
}

bool negative_zero(const std::string& t) { return std::regex_match(t, std::regex("-0(\\.0*)?")); }
}  // namespace

TEST_CASE("ticks are 1, 2 or 5 times a power of ten and zero is never \"-0\"", "[train][plot]") {
  using train::plot::nice_ticks;
  using train::plot::tick_text;
  CHECK(tick_text(-1e-17, 0.05) == "0.00");
  CHECK(tick_text(-0.0, 1) == "0");
  CHECK(tick_text(-0.1, 0.1) == "-0.1");
  CHECK(tick_text(0.25, 0.25) == "0.25");
  for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{{-0.3, 0.3}, {-1e-3, 2e-3}, {0.9, 1.1}, {-7, 13}, {0, 1}}) {
    const std::vector<double> ticks = nice_ticks(lo, hi, 6);
    REQUIRE(ticks.size() >= 3);
    const double step = ticks[1] - ticks[0];
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
    CHECK((std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 || std::abs(mantissa - 5) < 1e-9));
    for (double t : ticks) {
      CHECK(t >= lo - 1e-12);
      CHECK(t <= hi + 1e-12);
      INFO(lo << " .. " << hi << ": " << tick_text(t, step));
      CHECK_FALSE(negative_zero(tick_text(t, step)));
    }
  }
}

TEST_CASE("a line plot: PNG and SVG, labelled axes, a legend, no \"-0\" tick", "[train][plot]") {
  const std::string dir = fresh_dir("lines");
  // Values crossing zero by float rounding, as a loss near 0 does.
  train::Curve a{"SupCon", {1, 2, 3, 4, 5}, {0.3, 0.1, 1e-17, -0.1, -0.2}};
  train::Curve b{"KoLeo", {1, 2, 3, 4, 5}, {-0.25, -0.2, NAN, 0.05, 0.02}};
  train::LinePlot p;
  p.title = "training loss per epoch";
  p.x_label = "epoch";
  p.y_label = "mean loss";
  p.integer_x = true;
  train::write_line_plot(dir + "/loss.png", p, {a, b});
  check_png(dir + "/loss.png", 820, 520);
  const std::vector<std::string> texts = svg_texts(dir + "/loss.svg");
  for (const char* t : {"training loss per epoch", "epoch", "mean loss", "SupCon", "KoLeo", "1", "5"}) {
    INFO(t);
    CHECK(has(texts, t));
  }
  CHECK_FALSE(has(texts, "1.5"));  // epochs are whole
  const std::vector<std::string> ticks = tick_texts(texts);
  CHECK(ticks.size() >= 8);
  for (const std::string& t : ticks) {
    INFO(t);
    CHECK_FALSE(negative_zero(t));
  }
  // Written atomically: the two files and no temporary beside them.
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.insert(e.path().filename().string());
  CHECK(files == std::set<std::string>{"loss.png", "loss.svg"});
}

TEST_CASE("a y axis bounded to [0, 1] never shows a tick past 1, even for a flat curve at 1", "[train][plot]") {
  const std::string dir = fresh_dir("bounded");
  train::LinePlot p;
  p.title = "precision@1";
  p.x_label = "epoch";
  p.y_label = "precision@1";
  p.integer_x = true;
  p.y_floor = 0, p.y_ceiling = 1;
  train::write_line_plot(dir + "/precision.png", p, {{"", {1, 2, 3}, {1, 1, 1}}});
  check_png(dir + "/precision.png", 820, 520);
  const std::vector<std::string> ticks = tick_texts(svg_texts(dir + "/precision.svg"));
  double top = -1;  // of the y ticks, the ones with decimals (the epochs are whole)
  for (const std::string& t : ticks)
    if (t.find('.') != std::string::npos) top = std::max(top, std::stod(t));
  CHECK(top == 1.0);
  CHECK(std::find(ticks.begin(), ticks.end(), "1.0") != ticks.end());
}

TEST_CASE("a log2 axis puts bits per vector on powers of two", "[train][plot]") {
  const std::string dir = fresh_dir("log2");
  train::LinePlot p;
  p.title = "size against precision@1";
  p.x_label = "bits per vector";
  p.y_label = "precision@1";
  p.log2_x = true;
  p.joined = false;
  train::write_line_plot(dir + "/table.png", p, {{"none", {512}, {0.8}}, {"1bit", {32}, {0.6}}, {"u8-lut", {128}, {0.79}}});
  check_png(dir + "/table.png", 820, 520);
  const std::vector<std::string> texts = svg_texts(dir + "/table.svg");
  for (const char* t : {"32", "64", "128", "256", "512", "none", "1bit", "u8-lut"}) {
    INFO(t);
    CHECK(has(texts, t));
  }
  CHECK_FALSE(has(texts, "16"));
  CHECK_THROWS_AS(train::write_line_plot(dir + "/table.jpg", p, {}), std::invalid_argument);
}

TEST_CASE("100 classes get 100 distinct (colour, marker) pairs", "[train][plot]") {
  std::set<std::tuple<double, double, double, int>> pairs;
  std::set<std::tuple<double, double, double>> first_ten;
  for (int k = 0; k < 100; ++k) {
    const train::plot::ClassStyle s = train::plot::class_style(k);
    pairs.insert({s.colour.r, s.colour.g, s.colour.b, int(s.marker)});
    if (k < 10) first_ten.insert({s.colour.r, s.colour.g, s.colour.b});
  }
  CHECK(pairs.size() == 100);
  CHECK(first_ten.size() == 10);  // the first ten differ in colour alone
}

TEST_CASE("a scatter of 100 classes says its legend is truncated", "[train][plot]") {
  const std::string dir = fresh_dir("scatter");
  std::vector<float> x, y;
  std::vector<int> labels;
  std::vector<std::string> names;
  for (int k = 0; k < 100; ++k) {
    names.push_back("class number " + std::to_string(k));
    for (int i = 0; i < 5; ++i) {
      x.push_back(float(k % 10) / 10 + 0.02f * float(i));
      y.push_back(float(k / 10) / 10 + 0.03f);
      labels.push_back(k);
    }
  }
  train::write_torus_scatter(dir + "/embeddings.png", "torusN embeddings of the held-out images", "circle 0 (turns)",
                             "circle 1 (turns)", x, y, labels, names);
  check_png(dir + "/embeddings.png", 940, 760, 0.01, 20);
  const std::vector<std::string> texts = svg_texts(dir + "/embeddings.svg");
  for (const char* t : {"torusN embeddings of the held-out images", "circle 0 (turns)", "circle 1 (turns)", "class number 0",
                        "0.25", "1.00"}) {
    INFO(t);
    CHECK(has(texts, t));
  }
  CHECK_FALSE(has(texts, "class number 99"));
  // The note counts exactly the classes left out.
  int listed = 0;
  for (int k = 0; k < 100; ++k) listed += has(texts, names[size_t(k)]);
  CHECK(listed >= 20);
  CHECK(has(texts, "\u2026 and " + std::to_string(100 - listed) + " more classes"));
}

TEST_CASE("class names that are not UTF-8 draw a replacement character, not a crash", "[train][plot]") {
  const std::string dir = fresh_dir("utf8");
  const std::vector<float> x = {0.1f, 0.6f, 0.3f, 0.8f}, y = {0.2f, 0.7f, 0.9f, 0.4f};
  const std::vector<int> labels = {0, 1, 2, 3};
  // "café", "日本", a lone continuation byte with a truncated sequence, a control character
  train::write_torus_scatter(dir + "/s.png", "t\xc3\xa9st & <more>", "x", "y", x, y, labels,
                             {"caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "a\x80" "b\xe6\x97", "tab\there"});
  check_png(dir + "/s.png", 940, 760, 0.002);
  const std::vector<std::string> texts = svg_texts(dir + "/s.svg");  // expat refuses invalid UTF-8
  CHECK(has(texts, "t\xc3\xa9st & <more>"));
  CHECK(has(texts, "caf\xc3\xa9"));
  CHECK(has(texts, "\xe6\x97\xa5\xe6\x9c\xac"));
  CHECK(has(texts, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"));
  CHECK(has(texts, "tab\xef\xbf\xbdhere"));
}

TEST_CASE("angle histograms: one panel per circle, a collapsed circle shows R = 1", "[train][plot]") {
  const std::string dir = fresh_dir("angles");
  geometry::RowMatrix<float> u(400, 5);
  for (int n = 0; n < 400; ++n)
    for (int k = 0; k < 5; ++k) u(n, k) = k == 2 ? 0.3f : float((n * (k + 3)) % 400) / 400.0f;
  train::write_angle_histograms(dir + "/angles.png", "torusN angles of the held-out feature vectors, per circle", u);
  const datasets::Image image = datasets::read_image(dir + "/angles.png", 3);
  check_png(dir + "/angles.png", image.width, image.height, 0.02);
  CHECK(image.width >= 600);
  const std::vector<std::string> texts = svg_texts(dir + "/angles.svg");
  CHECK(has(texts, "torusN angles of the held-out feature vectors, per circle"));
  CHECK(has(texts, "circle 2   R = 1.00"));
  CHECK(has(texts, "circle 0   R = 0.00"));
  CHECK(has(texts, "circle 4   R = 0.00"));
  CHECK_FALSE(has(texts, "circle 5   R = 0.00"));
  CHECK(has(texts, "angle (turns)"));
  CHECK(has(texts, "share of samples"));
}
