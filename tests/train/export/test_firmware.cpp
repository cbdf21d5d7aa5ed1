// The exported C as firmware uses it: two exports with different prefixes, networks and calibrations
// compiled under strict C99 and linked into one program that runs both, each checked bit for bit
// against its golden vectors; the reentrant entry point on separate scratch buffers against the
// static one; a product build without the golden files; the weights placed in a named section;
// the header's flash, RAM and stack numbers against sizeof and gcc's -fstack-usage; --prefix
// values that are not C identifiers refused before anything is written; and run_export's files
// under two prefixes in one folder (needs Fashion-MNIST for the calibration).
#include <catch2/catch.hpp>

#include "datasets/idx.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/export/check.hpp"
#include "train/export/codegen.hpp"
#include "train/export/export_run.hpp"

#include "export_fixtures.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace torus;
using namespace torus::train::exportq;
using namespace torus::train::exportq::testing;
namespace fs = std::filesystem;

namespace {

const char* kStrict = " -std=c99 -Wall -Wextra -Werror -pedantic ";

int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One export: its network, golden vectors and generated C.
struct Export {
  Int8ConvNet net;
  GeneratedC code;
};

Export make_export(std::uint64_t seed, int dim, int calibration_images, const std::string& prefix,
                   const std::vector<std::uint8_t>& images, int golden_count) {
  RandomNet r(seed, dim);
  Export e;
  e.net = calibrated(convnet_weights(r.net), images, calibration_images);
  const int K = dim / 2;
  GoldenVectors golden;
  golden.count = golden_count;
  golden.pixels.assign(images.begin(), images.begin() + golden_count * kPixels);
  golden.codes = reference_codes(e.net, golden.pixels);
  REQUIRE(golden.codes.size() == size_t(golden_count * K));
  e.code = generate_c(e.net, Provenance{"[model]\ndim = " + std::to_string(dim) + "\n", "random", std::int64_t(seed), 0, 0,
                                        "first " + std::to_string(calibration_images) + " images", kFmnist, ""},
                      golden, prefix);
  return e;
}

// The program that runs both models: every golden vector through the static entry point and
// through the reentrant one on two scratch buffers filled with different garbage, alternating
// models and buffers; the self-tests; null and misaligned arguments; and the stated sizes against
// sizeof. Prints one line per failure and exits with their number.
const char* kBothModels = R"C(#include "alpha_model.h"
#include "beta_model.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;

static void expect(int ok, const char *what, int n) {
  if (!ok) {
    printf("FAIL %s (vector %d)\n", what, n);
    ++failures;
  }
}

/* Two scratch buffers as a caller would own them: one typed, one raw bytes sized by the function. */
static alpha_scratch typed_scratch;
static union {
  int32_t align;
  unsigned char bytes[ALPHA_MODEL_SCRATCH_BYTES > BETA_MODEL_SCRATCH_BYTES ? ALPHA_MODEL_SCRATCH_BYTES : BETA_MODEL_SCRATCH_BYTES];
} raw_scratch;

int main(void) {
  uint8_t a_static[ALPHA_MODEL_CODES], a_r1[ALPHA_MODEL_CODES], a_r2[ALPHA_MODEL_CODES];
  uint8_t b_static[BETA_MODEL_CODES], b_r1[BETA_MODEL_CODES], b_r2[BETA_MODEL_CODES];
  size_t alpha_flash, beta_flash;
  int n;
  memset(&typed_scratch, 0xA5, sizeof typed_scratch);
  memset(&raw_scratch, 0x5A, sizeof raw_scratch);
  expect(alpha_self_test() == 0, "alpha_self_test", -1);
  expect(beta_self_test() == 0, "beta_self_test", -1);
  for (n = 0; n < ALPHA_MODEL_GOLDEN_COUNT && n < BETA_MODEL_GOLDEN_COUNT; ++n) {
    expect(alpha_embed_u8(alpha_golden_pixels[n], a_static) == 0, "alpha_embed_u8 returns 0", n);
    expect(alpha_embed_u8_r(&typed_scratch, alpha_golden_pixels[n], a_r1) == 0, "alpha_embed_u8_r returns 0", n);
    expect(beta_embed_u8_r(&raw_scratch, beta_golden_pixels[n], b_r2) == 0, "beta_embed_u8_r returns 0", n);
    expect(beta_embed_u8(beta_golden_pixels[n], b_static) == 0, "beta_embed_u8 returns 0", n);
    expect(alpha_embed_u8_r(&raw_scratch, alpha_golden_pixels[n], a_r2) == 0, "alpha_embed_u8_r (raw) returns 0", n);
    expect(beta_embed_u8_r(&raw_scratch, beta_golden_pixels[n], b_r1) == 0, "beta_embed_u8_r (raw) returns 0", n);
    expect(memcmp(a_static, alpha_golden_codes[n], ALPHA_MODEL_CODES) == 0, "alpha static == golden", n);
    expect(memcmp(b_static, beta_golden_codes[n], BETA_MODEL_CODES) == 0, "beta static == golden", n);
    expect(memcmp(a_r1, a_static, ALPHA_MODEL_CODES) == 0, "alpha reentrant (typed scratch) == static", n);
    expect(memcmp(a_r2, a_static, ALPHA_MODEL_CODES) == 0, "alpha reentrant (raw scratch) == static", n);
    expect(memcmp(b_r1, b_static, BETA_MODEL_CODES) == 0, "beta reentrant == static", n);
    expect(memcmp(b_r2, b_static, BETA_MODEL_CODES) == 0, "beta reentrant (before static) == static", n);
  }
  expect(alpha_embed_u8_r(NULL, alpha_golden_pixels[0], a_r1) == -1, "null scratch refused", 0);
  expect(alpha_embed_u8_r(raw_scratch.bytes + 1, alpha_golden_pixels[0], a_r1) == -1, "misaligned scratch refused", 0);
  expect(alpha_embed_u8(NULL, a_r1) == -1, "null pixels refused", 0);

  expect(sizeof(alpha_scratch) == ALPHA_MODEL_SCRATCH_BYTES, "sizeof(alpha_scratch) == ALPHA_MODEL_SCRATCH_BYTES", -1);
  expect(alpha_scratch_bytes() == ALPHA_MODEL_SCRATCH_BYTES, "alpha_scratch_bytes()", -1);
  expect(sizeof(beta_scratch) == BETA_MODEL_SCRATCH_BYTES, "sizeof(beta_scratch) == BETA_MODEL_SCRATCH_BYTES", -1);
  expect(beta_scratch_bytes() == BETA_MODEL_SCRATCH_BYTES, "beta_scratch_bytes()", -1);
  alpha_flash = sizeof alpha_conv1_w + sizeof alpha_conv1_b + sizeof alpha_conv1_mult + sizeof alpha_conv1_shift +
                sizeof alpha_conv2_w + sizeof alpha_conv2_b + sizeof alpha_conv2_mult + sizeof alpha_conv2_shift +
                sizeof alpha_fc1_w + sizeof alpha_fc1_b + sizeof alpha_fc1_mult + sizeof alpha_fc1_shift +
                sizeof alpha_fc2_w + sizeof alpha_fc2_b + sizeof alpha_atan_table;
  beta_flash = sizeof beta_conv1_w + sizeof beta_conv1_b + sizeof beta_conv1_mult + sizeof beta_conv1_shift +
               sizeof beta_conv2_w + sizeof beta_conv2_b + sizeof beta_conv2_mult + sizeof beta_conv2_shift +
               sizeof beta_fc1_w + sizeof beta_fc1_b + sizeof beta_fc1_mult + sizeof beta_fc1_shift +
               sizeof beta_fc2_w + sizeof beta_fc2_b + sizeof beta_atan_table;
  expect(alpha_flash == ALPHA_MODEL_FLASH_BYTES, "alpha constants == ALPHA_MODEL_FLASH_BYTES", -1);
  expect(beta_flash == BETA_MODEL_FLASH_BYTES, "beta constants == BETA_MODEL_FLASH_BYTES", -1);
  expect(sizeof alpha_golden_pixels + sizeof alpha_golden_codes == ALPHA_MODEL_GOLDEN_BYTES, "alpha golden bytes", -1);
  printf("scratch %lu %lu flash %lu %lu failures %d\n", (unsigned long)sizeof(alpha_scratch),
         (unsigned long)sizeof(beta_scratch), (unsigned long)alpha_flash, (unsigned long)beta_flash, failures);
  return failures;
}
)C";

// A product build: no golden files, weights in named sections. Reads n x 784 pixels from argv[1]
// and writes, per image, alpha's codes then beta's, through the reentrant entry point.
const char* kProduct = R"C(#include "alpha_model.h"
#include "beta_model.h"

#include <stdio.h>

int main(int argc, char **argv) {
  static alpha_scratch a_scratch;
  static beta_scratch b_scratch;
  uint8_t pixels[ALPHA_MODEL_INPUT_SIZE];
  uint8_t a[ALPHA_MODEL_CODES], b[BETA_MODEL_CODES];
  FILE *in, *out;
  if (argc != 3 || (in = fopen(argv[1], "rb")) == NULL) return 2;
  if ((out = fopen(argv[2], "wb")) == NULL) return 2;
  while (fread(pixels, 1, sizeof pixels, in) == sizeof pixels) {
    if (alpha_embed_u8_r(&a_scratch, pixels, a) != 0 || beta_embed_u8_r(&b_scratch, pixels, b) != 0) return 3;
    if (fwrite(a, 1, sizeof a, out) != sizeof a || fwrite(b, 1, sizeof b, out) != sizeof b) return 3;
  }
  fclose(in);
  return fclose(out) == 0 ? 0 : 2;
}
)C";

// The frames gcc reports for one file compiled with -fstack-usage: their sum, and whether every
// one is "static" (a fixed size, no alloca or variable-length array).
struct StackUsage {
  std::size_t functions = 0, total_bytes = 0;
  bool all_static = true;
};

StackUsage stack_usage(const std::string& su_path) {
  StackUsage u;
  std::istringstream lines(read_text(su_path));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string where, kind;
    std::size_t bytes = 0;
    std::getline(fields, where, '\t');
    fields >> bytes >> kind;
    ++u.functions;
    u.total_bytes += bytes;
    u.all_static = u.all_static && kind == "static";
  }
  return u;
}

}  // namespace

TEST_CASE("export firmware: two prefixed exports link into one C program; reentrant == static == golden") {
  const std::string cc = find_c_compiler();
  if (cc.empty()) {
    WARN("no C compiler (cc or $CC) found: the firmware test is skipped");
    return;
  }
  std::mt19937_64 rng(11);
  std::vector<std::uint8_t> images = random_images(38, rng);
  images.insert(images.begin(), kPixels, std::uint8_t(255));  // all white and all black among the goldens
  images.insert(images.begin(), kPixels, std::uint8_t(0));
  const int n = int(images.size() / kPixels);
  // Two networks (other seeds and D) quantised with other calibrations: two sets of constants.
  const Export alpha = make_export(42, 16, 32, "alpha", images, 6);
  const Export beta = make_export(43, 8, 4, "beta", images, 6);
  REQUIRE(alpha.net.fc1_mult != beta.net.fc1_mult);
  REQUIRE(alpha.net.conv1_w != beta.net.conv1_w);

  const std::string dir = fresh_dir("firmware");
  for (const Export* e : {&alpha, &beta})
    for (const auto& [name, text] : e->code.files()) nn::io::write_file_atomic(dir + "/" + name, text);
  // No unprefixed name is left in either export.
  for (const Export* e : {&alpha, &beta})
    for (const auto& [name, text] : e->code.files()) {
      INFO(name);
      CHECK(text.find("torus_") == std::string::npos);
      CHECK(text.find("TORUS_") == std::string::npos);
    }
  nn::io::write_file_atomic(dir + "/both.c", std::string(kBothModels));
  nn::io::write_file_atomic(dir + "/product.c", std::string(kProduct));
  const std::string cflags = std::string(kStrict) + "-O2 -I" + dir + " ";
  const std::string models = dir + "/alpha_model.c " + dir + "/alpha_weights.c " + dir + "/beta_model.c " + dir + "/beta_weights.c ";

  SECTION("(1, 2, 5) both models and their golden vectors in one program; stated sizes == sizeof") {
    const std::string log = dir + "/both.log";
    const int built = run_shell(cc + cflags + models + dir + "/alpha_golden.c " + dir + "/beta_golden.c " + dir +
                                "/both.c -o " + dir + "/both > " + log + " 2>&1");
    INFO(read_text(log));
    REQUIRE(built == 0);
    const int failures = run_shell(dir + "/both > " + log + " 2>&1");
    const std::string out = read_text(log);
    INFO(out);
    CHECK(failures == 0);
    const ResourceBudget& ra = alpha.code.resources;
    const ResourceBudget& rb = beta.code.resources;
    // The stated numbers, by hand: 4 (28^2 + D) + 30^2 + 32 16^2 + 64 7^2 + 128 bytes of scratch;
    // weights 9 32 + 288 64 + 3136 128 + 128 D int8, biases, multipliers and shifts 3 (32 + 64 + 128)
    // + D int32, the 257-entry atan table.
    CHECK(ra.scratch_bytes == 4 * (784 + 16) + 900 + 8192 + 3136 + 128);
    CHECK(rb.scratch_bytes == 4 * (784 + 8) + 900 + 8192 + 3136 + 128);
    CHECK(ra.flash_bytes == 288 + 18432 + 401408 + 128 * 16 + 4 * (3 * (32 + 64 + 128) + 16) + 4 * 257);
    CHECK(rb.flash_bytes == 288 + 18432 + 401408 + 128 * 8 + 4 * (3 * (32 + 64 + 128) + 8) + 4 * 257);
    CHECK(ra.golden_bytes == 6 * (784 + 8));
    CHECK_THAT(out, Catch::Contains("scratch " + std::to_string(ra.scratch_bytes) + " " + std::to_string(rb.scratch_bytes) +
                                    " flash " + std::to_string(ra.flash_bytes) + " " + std::to_string(rb.flash_bytes) +
                                    " failures 0"));
    CHECK_THAT(alpha.code.header, Catch::Contains("#define ALPHA_MODEL_SCRATCH_BYTES " + std::to_string(ra.scratch_bytes)) &&
                                      Catch::Contains("#define ALPHA_MODEL_FLASH_BYTES " + std::to_string(ra.flash_bytes)) &&
                                      Catch::Contains("#define ALPHA_MODEL_STACK_BYTES " + std::to_string(ra.stack_bytes)));
  }

  SECTION("(3) a product build leaves the golden files out and places the weights in a section") {
    const std::string log = dir + "/product.log";
    const std::string sections = "-DALPHA_WEIGHTS_SECTION='\".alpha_flash\"' -DBETA_WEIGHTS_SECTION='\".beta_flash\"' ";
    const int built = run_shell(cc + cflags + sections + models + dir + "/product.c -o " + dir + "/product > " + log + " 2>&1");
    INFO(read_text(log));
    REQUIRE(built == 0);
    nn::io::write_file_atomic(dir + "/images.bin", std::string_view(reinterpret_cast<const char*>(images.data()), images.size()));
    REQUIRE(run_shell(dir + "/product " + dir + "/images.bin " + dir + "/codes.bin") == 0);
    const std::string bytes = read_text(dir + "/codes.bin");
    const std::vector<std::uint8_t> a = reference_codes(alpha.net, images), b = reference_codes(beta.net, images);
    REQUIRE(bytes.size() == size_t(n) * (8 + 4));
    std::vector<std::uint8_t> ca, cb;
    for (int i = 0; i < n; ++i) {
      ca.insert(ca.end(), bytes.begin() + i * 12, bytes.begin() + i * 12 + 8);
      cb.insert(cb.end(), bytes.begin() + i * 12 + 8, bytes.begin() + i * 12 + 12);
    }
    CHECK(ca == a);
    CHECK(cb == b);
    // The golden symbols are absent, and each model's constants sit in its own section, no
    // smaller than the stated flash (the compiler may pad between arrays for alignment).
    CHECK(run_shell("nm " + dir + "/product | grep -q golden") == 1);
    if (run_shell("size -A -d " + dir + "/product > " + log + " 2>&1") == 0) {
      std::istringstream table(read_text(log));
      std::size_t alpha_section = 0, beta_section = 0;
      for (std::string line; std::getline(table, line);) {  // "name size address", one section a line
        std::istringstream fields(line);
        std::string name;
        std::size_t size = 0;
        if (!(fields >> name >> size)) continue;
        if (name == ".alpha_flash") alpha_section = size;
        if (name == ".beta_flash") beta_section = size;
      }
      INFO(read_text(log));
      CHECK(alpha_section >= alpha.code.resources.flash_bytes);
      CHECK(alpha_section < alpha.code.resources.flash_bytes + 15 * 64);
      CHECK(beta_section >= beta.code.resources.flash_bytes);
      CHECK(beta_section < beta.code.resources.flash_bytes + 15 * 64);
    } else {
      WARN("size(1) not found: section sizes not checked");
    }
  }

  SECTION("(5) the stated stack bound holds for gcc's -fstack-usage frames at -O0 and -O2") {
    if (run_shell(cc + " -fstack-usage -x c -c /dev/null -o " + dir + "/probe.o > /dev/null 2>&1") != 0) {
      WARN(cc << " does not take -fstack-usage: the stack bound is not measured");
      return;
    }
    for (const char* level : {"-O0", "-O2"}) {
      const std::string object = dir + "/alpha_model" + level + ".o";
      REQUIRE(run_shell(cc + std::string(kStrict) + level + " -fstack-usage -I" + dir + " -c " + dir + "/alpha_model.c -o " + object) == 0);
      const StackUsage u = stack_usage(dir + "/alpha_model" + level + ".su");
      INFO(level << ": " << u.functions << " functions, " << u.total_bytes << " bytes in all; bound "
                 << alpha.code.resources.stack_bytes);
      CHECK(u.all_static);
      CHECK(u.functions >= 3);  // at least the three entry points, whatever is inlined
      CHECK(u.total_bytes <= alpha.code.resources.stack_bytes);
      if (std::string(level) == "-O0") CHECK(u.functions == 12);  // nothing inlined: every function of the C
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("export firmware: (4) a --prefix that is not a C identifier is refused, exit 2, nothing written") {
  for (const char* bad : {"", "9lives", "_torus", "my-model", "my model", "mod\xc3\xa9le", "a.b"}) {
    INFO("prefix \"" << bad << "\"");
    CHECK_FALSE(is_c_prefix(bad));
  }
  for (const char* good : {"torus", "Shoe2", "a", "fmnist_v2_"}) CHECK(is_c_prefix(good));
  CHECK_THROWS_AS(generate_c(Int8ConvNet{}, Provenance{}, GoldenVectors{}, "my-model"), std::invalid_argument);

  // A run folder the export would accept: only the prefix is wrong.
  const std::string run = make_run("prefix_run", "convnet", "torusN");
  ExportOptions o;
  o.run_dir = run;
  o.prefix = "my-model";
  std::string message;
  try {
    run_export(o, nullptr);
  } catch (const ExportError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Catch::Contains("--prefix \"my-model\"") && Catch::Contains("C identifier"));
  CHECK_FALSE(fs::exists(run + "/export"));

  const char* exe = std::getenv("TORUS_EXPORT");
  if (exe == nullptr || *exe == '\0') {
    WARN("TORUS_EXPORT is not set (meson test sets it): torus-export's exit status is not checked");
  } else {
    for (const char* bad : {"9lives", "my-model", "'a b'"}) {
      INFO("--prefix " << bad);
      const std::string log = run + "/stderr.txt";
      const int status = run_shell(std::string(exe) + " --run " + run + " --out " + run + "/out --prefix " + bad + " > " + log + " 2>&1");
      const std::string err = read_text(log);
      INFO(err);
      CHECK(status == 2);
      CHECK_THAT(err, Catch::Contains("--prefix"));
      CHECK_FALSE(fs::exists(run + "/out"));
    }
  }
  fs::remove_all(run);
}

TEST_CASE("export firmware: run_export writes the prefixed files, and two exports share one folder") {
  if (!fs::is_directory(datasets::kFashionMnistDir)) {
    WARN(datasets::kFashionMnistDir << " not found: the run_export test is skipped");
    return;
  }
  const std::string run = make_run("prefix_files", "convnet", "torusN");
  ExportOptions o;
  o.run_dir = run;
  o.out_dir = run + "/firmware";
  o.calibration = 16;
  o.golden = 3;
  const ExportResult plain = run_export(o, nullptr);
  o.prefix = "shoe";
  o.calibration = 64;
  const ExportResult shoe = run_export(o, nullptr);
  const auto names = [&](const ExportResult& r) {
    std::vector<std::string> out;
    for (const auto& path : r.files) out.push_back(fs::path(path).filename().string());
    return out;
  };
  CHECK(names(plain) == std::vector<std::string>{"torus_model.h", "torus_model.c", "torus_weights.c", "torus_golden.c",
                                                 "weights.safetensors"});
  CHECK(names(shoe) == std::vector<std::string>{"shoe_model.h", "shoe_model.c", "shoe_weights.c", "shoe_golden.c",
                                                "shoe_weights.safetensors"});
  for (const auto& path : plain.files) CHECK(fs::is_regular_file(path));
  const std::string header = read_text(o.out_dir + "/shoe_model.h");
  CHECK_THAT(header, Catch::Contains("#define SHOE_MODEL_FLASH_BYTES " + std::to_string(shoe.resources.flash_bytes)) &&
                         Catch::Contains("#define SHOE_MODEL_GOLDEN_COUNT 3") &&
                         Catch::Contains("mean 0.286, std 0.353"));
  // Both exports in one program: their self-tests run the golden vectors each export computed.
  const std::string cc = find_c_compiler();
  if (!cc.empty()) {
    nn::io::write_file_atomic(o.out_dir + "/main.c", std::string(R"C(#include "shoe_model.h"
#include "torus_model.h"

int main(void) { return torus_self_test() * 16 + shoe_self_test(); }
)C"));
    std::string sources;
    for (const auto* r : {&plain, &shoe})
      for (const auto& path : r->files)
        if (path.size() > 2 && path.substr(path.size() - 2) == ".c") sources += path + " ";
    const std::string log = o.out_dir + "/build.log";
    const int built = run_shell(cc + kStrict + "-O2 -I" + o.out_dir + " " + sources + o.out_dir + "/main.c -o " +
                                o.out_dir + "/both > " + log + " 2>&1");
    INFO(read_text(log));
    REQUIRE(built == 0);
    CHECK(run_shell(o.out_dir + "/both") == 0);
  }
  fs::remove_all(run);
}
