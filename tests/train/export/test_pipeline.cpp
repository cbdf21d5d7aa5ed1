// torus-export end to end without a trained run: a randomly initialised FmnistConvNet quantised and
// run in integers agrees with its float self; the generated C compiles under strict C99 and
// reproduces the C++ integer reference bit for bit; and run folders it must refuse (another
// architecture, a foreign or corrupt checkpoint, nothing there) fail with a message naming the
// file and field and leave no output behind.
#include <catch2/catch.hpp>

#include "nn/io/atomic_file.hpp"
#include "nn/io/errors.hpp"
#include "train/export/check.hpp"
#include "train/export/codegen.hpp"
#include "train/export/int8_net.hpp"
#include "train/export/export_run.hpp"

#include "export_fixtures.hpp"

#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>
#include <sstream>

using namespace torus;
using namespace torus::train::exportq;
namespace fs = std::filesystem;

using namespace torus::train::exportq::testing;

namespace {

// The network's own forward (nn/ modules) on normalised pixels -> its torusN codes.
std::vector<std::uint8_t> module_codes(nn::FmnistConvNet<float>& net, const std::vector<std::uint8_t>& images, int first, int n) {
  Tensor<float> x(Shape{n, 1, 28, 28});
  for (int i = 0; i < n * kPixels; ++i)
    x[i] = float((images[size_t(first) * kPixels + size_t(i)] / 255.0 - kFmnist.mean) / kFmnist.std);
  Tape<float> tape;
  NoGradGuard<float> no_grad(tape);
  net.set_training(false);
  const Tensor<float> z = net.forward(tape.constant(x)).value();
  std::vector<std::uint8_t> codes(size_t(n) * 8);
  for (int i = 0; i < n; ++i) float_codes(&z[i * 16], 16, &codes[size_t(i) * 8]);
  return codes;
}

}  // namespace

TEST_CASE("export: integer pipeline of a random FmnistConvNet agrees with the float model") {
  RandomNet r;
  const ConvNetWeights w = convnet_weights(r.net);
  std::mt19937_64 rng(7);
  const std::vector<std::uint8_t> images = random_images(160, rng);
  const Int8ConvNet q = calibrated(w, images, 64);
  CHECK(q.input_zero_point == 73);  // round(255 x 0.2860)
  CHECK(q.act1.zero_point == -128);
  REQUIRE(q.fc2_scale[0] == q.fc2_scale[1]);

  // Queries are images 64..159, not used for calibration.
  const int first = 64, n = 96;
  const std::vector<std::uint8_t> reference = module_codes(r.net, images, first, n);
  std::vector<std::uint8_t> loops(size_t(n) * 8), integer(size_t(n) * 8);
  std::vector<float> h(16);
  std::vector<std::int32_t> hi(16);
  for (int i = 0; i < n; ++i) {
    float_forward(w, kFmnist, &images[size_t(first + i) * kPixels], h.data());
    float_codes(h.data(), 16, &loops[size_t(i) * 8]);
    int8_forward(q, &images[size_t(first + i) * kPixels], hi.data(), &integer[size_t(i) * 8]);
  }
  // The plain float loops are the network itself (only summation order differs).
  CHECK(within_steps_fraction(loops, reference, 1) == 1.0);
  CHECK(identical_fraction(loops, reference) > 0.98);
  const double within = within_steps_fraction(integer, reference, 1);
  INFO("integer vs float: identical " << identical_fraction(integer, reference) << ", within one step " << within);
  CHECK(within >= 0.95);
}

TEST_CASE("export: the generated C compiles as strict C99 and equals the C++ integer reference") {
  const std::string cc = find_c_compiler();
  if (cc.empty()) {
    WARN("no C compiler (cc or $CC) found: the generated-C test is skipped");
    return;
  }
  RandomNet r;
  const ConvNetWeights w = convnet_weights(r.net);
  std::mt19937_64 rng(9);
  std::vector<std::uint8_t> images = random_images(40, rng);
  // Extreme inputs too: all black, all white.
  images.insert(images.end(), kPixels, std::uint8_t(0));
  images.insert(images.end(), kPixels, std::uint8_t(255));
  const int n = int(images.size() / kPixels);
  const Int8ConvNet q = calibrated(w, images, 32);
  std::vector<std::uint8_t> cpp(size_t(n) * 8);
  std::vector<std::int32_t> h(16);
  for (int i = 0; i < n; ++i) int8_forward(q, &images[size_t(i) * kPixels], h.data(), &cpp[size_t(i) * 8]);
  GoldenVectors golden;
  golden.count = 4;
  golden.pixels.assign(images.begin(), images.begin() + 4 * kPixels);
  golden.codes.assign(cpp.begin(), cpp.begin() + 4 * 8);
  const GeneratedC code = generate_c(q, Provenance{"[model]\narch = 'convnet' /* */\n", "random", 42, 0, 0, "test", {}, ""}, golden);
  CHECK(code.source.find("float") == std::string::npos);
  CHECK(code.source.find("double") == std::string::npos);
  CHECK(code.weights.find("float") == std::string::npos);
  // The default prefix keeps the names users have: torus_model.h, TORUS_MODEL_*, torus_embed_u8.
  std::vector<std::string> names;
  for (const auto& file : code.files()) names.push_back(file.first);
  CHECK(names == std::vector<std::string>{"torus_model.h", "torus_model.c", "torus_weights.c", "torus_golden.c"});
  CHECK_THAT(code.header, Catch::Contains("#define TORUS_MODEL_DIM 16") &&
                              Catch::Contains("int torus_embed_u8(const uint8_t *pixels, uint8_t *codes);"));
  const std::string dir = fresh_dir("codegen");
  fs::create_directories(dir + "/work");
  for (const auto& [name, text] : code.files()) nn::io::write_file_atomic(dir + "/" + name, text);
  const CRunResult c = compile_and_run_c(cc, dir, dir + "/work", images, 8);
  INFO(c.compile_log);
  REQUIRE(c.compiled);
  CHECK(c.self_test == 0);
  CHECK(c.no_float_tokens);
  if (c.general_regs_tried) CHECK(c.general_regs_only);
  CHECK(c.codes == cpp);
  // The same network under another prefix, beside the first export: --check's driver and build.
  const GeneratedC shoe = generate_c(q, Provenance{"", "random", 42, 0, 0, "test", {}, ""}, golden, "shoe");
  for (const auto& [name, text] : shoe.files()) nn::io::write_file_atomic(dir + "/" + name, text);
  fs::create_directories(dir + "/work_shoe");
  const CRunResult s = compile_and_run_c(cc, dir, dir + "/work_shoe", images, 8, "shoe");
  INFO(s.compile_log);
  REQUIRE(s.compiled);
  CHECK(s.self_test == 0);
  CHECK(s.codes == cpp);
  fs::remove_all(dir);
}

namespace {
std::string export_error(const ExportOptions& o) {
  try {
    run_export(o, nullptr);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("export: refuses other architectures, foreign and corrupt checkpoints, and writes nothing") {
  const std::string lenet = make_run("lenet", "lenet5", "torusN");
  ExportOptions o;
  o.run_dir = lenet;
  std::string msg = export_error(o);
  CHECK_THAT(msg, Catch::Contains("config.toml") && Catch::Contains("lenet5") && Catch::Contains("convnet"));
  CHECK_FALSE(fs::exists(lenet + "/export"));

  const std::string sphere = make_run("sphere", "convnet", "sphere");
  o.run_dir = sphere;
  CHECK_THAT(export_error(o), Catch::Contains("model.head = \"sphere\""));
  CHECK_FALSE(fs::exists(sphere + "/export"));

  // A convnet/torusN run given the lenet5 run's checkpoint: the checkpoint is named.
  const std::string good = fresh_dir("good");
  {
    train::TrainConfig c;
    nn::io::write_file_atomic(good + "/config.toml", train::to_toml(c));
  }
  o.run_dir = good;
  o.checkpoint = lenet + "/best.ckpt";
  msg = export_error(o);
  CHECK_THAT(msg, Catch::Contains("checkpoint " + lenet + "/best.ckpt") && Catch::Contains("lenet5"));
  CHECK_FALSE(fs::exists(good + "/export"));

  // Missing checkpoint, corrupt checkpoint, missing run folder.
  o.checkpoint = "best";
  CHECK_THAT(export_error(o), Catch::Contains(good + "/best.ckpt") && Catch::Contains("no such file"));
  nn::io::write_file_atomic(good + "/best.ckpt", std::string(200, 'x'));
  CHECK_THROWS_AS(run_export(o, nullptr), nn::io::FormatError);
  CHECK_THAT(export_error(o), Catch::Contains("best.ckpt"));
  CHECK_FALSE(fs::exists(good + "/export"));
  o.run_dir = good + "/nowhere";
  CHECK_THAT(export_error(o), Catch::Contains("nowhere") && Catch::Contains("no such folder"));
  for (const auto& d : {lenet, sphere, good}) fs::remove_all(d);
}

namespace {
// The golden codes of an export's NAME_golden.c, one row per golden image.
std::vector<std::vector<int>> golden_codes(const std::string& path) {
  const std::string text = nn::io::read_file(path);
  std::string body = text.substr(text.find("_golden_codes["));
  body = body.substr(body.find('{') + 1, body.find("};") - body.find('{') - 1);
  std::vector<std::vector<int>> rows;
  for (size_t at = body.find('{'); at != std::string::npos; at = body.find('{', at + 1)) {
    std::istringstream row(body.substr(at + 1, body.find('}', at) - at - 1));
    std::vector<int> codes;
    for (std::string v; std::getline(row, v, ',');) codes.push_back(std::stoi(v));
    rows.push_back(codes);
  }
  return rows;
}
}  // namespace

TEST_CASE("export: --circles emits the first codes of the whole model's (a Matryoshka prefix)") {
  const std::string run = make_run("matryoshka", "convnet", "torusN");  // D = 16: 8 circles
  ExportOptions o;
  o.run_dir = run;
  o.calibration = 64;
  o.threads = 1;
  o.out_dir = run + "/whole";
  run_export(o, nullptr);
  o.circles = 3;
  o.out_dir = run + "/prefix";
  run_export(o, nullptr);
  const std::vector<std::vector<int>> whole = golden_codes(run + "/whole/torus_golden.c"),
                                      prefix = golden_codes(run + "/prefix/torus_golden.c");
  REQUIRE(whole.size() == 8);
  REQUIRE(prefix.size() == whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    REQUIRE(whole[i].size() == 8);
    CHECK(prefix[i] == std::vector<int>(whole[i].begin(), whole[i].begin() + 3));
  }
  const std::string header = nn::io::read_file(run + "/prefix/torus_model.h");
  CHECK_THAT(header, Catch::Contains("#define TORUS_MODEL_CODES 3") && Catch::Contains("Matryoshka prefix: the first 3 of the run's 8"));
  // fc2 keeps 6 of its 16 rows: less flash than the whole model.
  CHECK(fs::file_size(run + "/prefix/torus_weights.c") < fs::file_size(run + "/whole/torus_weights.c"));
  o.circles = 9;
  o.out_dir = run + "/too_many";
  CHECK_THAT(export_error(o), Catch::Contains("--circles 9") && Catch::Contains("8 circles"));
  CHECK_FALSE(fs::exists(run + "/too_many"));
  fs::remove_all(run);
}
