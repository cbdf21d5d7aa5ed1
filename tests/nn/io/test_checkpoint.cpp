// Checkpoints: a bit-identical round trip of everything a resumed run needs, and a refusal that
// says which problem it found: truncated, corrupt, not a checkpoint, another version, another
// architecture, or a malformed header behind a valid CRC.
#include "io_test_util.hpp"

#include "nn/io/checkpoint.hpp"

#include <zlib.h>

#include <random>
#include <sstream>

using namespace torus;
using namespace torus::nn::io;
using torus::testing::require_throws_with;
using torus::testing::ScratchDir;

namespace {

const nlohmann::json kArchitecture = {
    {"model", "fmnist_convnet"}, {"embedding_dim", 64}, {"head", "torusN"}, {"channels", {32, 64}}};

Tensor<float> random_floats(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor<float> t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = u(rng);
  return t;
}

Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.architecture = kArchitecture;
  c.epoch = 7;
  c.step = (int64_t(1) << 40) + 3;  // past 32 bits
  std::mt19937_64 rng(123);
  rng.discard(1000);
  std::ostringstream state;
  state << rng;
  c.rng_state = state.str();
  c.optimizer = {{"name", "sgd"}, {"lr", 0.05}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 5e-4}};
  c.settings = {{"optim.lr", "0.05"}, {"data.path", "\"/data/fmnist\""}};
  c.tensors.emplace_back("model/conv1.weight", random_floats({4, 1, 3, 3}, 1));
  c.tensors.emplace_back("model/fc.bias", random_floats({10}, 2));
  c.tensors.emplace_back("optim/conv1.weight.momentum", random_floats({4, 1, 3, 3}, 3));
  c.tensors.emplace_back("buffer/bn1.running_mean", random_floats({4}, 4));
  c.tensors.emplace_back("buffer/bn1.num_batches", Tensor<float>(Shape{}, {17.0f}));  // rank 0
  c.tensors.emplace_back("buffer/empty", Tensor<float>(Shape{0, 3}));
  return c;
}

uint32_t crc_of(const std::string& bytes) {
  return static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// A checkpoint built by hand around `header` and `data`, with correct framing and CRC, so the
// checks behind the CRC can be reached.
void write_framed(const std::string& path, std::string header, const std::string& data, uint32_t version = 1) {
  header.append((8 - header.size() % 8) % 8, ' ');
  const uint64_t size = 24 + header.size() + data.size() + 4;
  std::string bytes = std::string("TORUSCKP") + torus::testing::le_bytes(version) +
                      torus::testing::le_bytes(static_cast<uint32_t>(header.size())) + torus::testing::le_bytes(size) +
                      header + data;
  torus::testing::write_bytes(path, bytes + torus::testing::le_bytes(crc_of(bytes)));
}

}  // namespace

TEST_CASE("checkpoint round trip restores every field bit-identically", "[nn][io]") {
  ScratchDir dir("ckpt_round_trip");
  const std::string path = dir.file("run.ckpt");
  const Checkpoint saved = sample_checkpoint();
  save_checkpoint(path, saved);
  CHECK(dir.listing() == std::vector<std::string>{"run.ckpt"});

  const Checkpoint loaded = load_checkpoint(path, kArchitecture);
  CHECK(loaded.architecture == saved.architecture);
  CHECK(loaded.epoch == saved.epoch);
  CHECK(loaded.step == saved.step);
  CHECK(loaded.optimizer == saved.optimizer);
  CHECK(loaded.settings == saved.settings);
  CHECK(loaded.source == path);
  REQUIRE(loaded.tensors.size() == saved.tensors.size());
  for (std::size_t i = 0; i < saved.tensors.size(); ++i) {
    INFO("tensor " << saved.tensors[i].first);
    CHECK(loaded.tensors[i].first == saved.tensors[i].first);
    CHECK(torus::testing::bit_identical(loaded.tensors[i].second, saved.tensors[i].second));
  }
  // The generator continues exactly where the saved one would have.
  std::mt19937_64 original(123), restored;
  original.discard(1000);
  std::istringstream(loaded.rng_state) >> restored;
  CHECK(restored() == original());

  // Saving what was loaded gives the same bytes.
  const std::string again = dir.file("again.ckpt");
  save_checkpoint(again, loaded);
  CHECK(torus::testing::file_bytes(again) == torus::testing::file_bytes(path));
  CHECK(read_checkpoint(again).epoch == 7);
}

TEST_CASE("a checkpoint with no tensors and a string architecture round trips", "[nn][io]") {
  ScratchDir dir("ckpt_empty");
  Checkpoint c;
  c.architecture = "mlp-2x64";
  save_checkpoint(dir.file("e.ckpt"), c);
  const Checkpoint loaded = load_checkpoint(dir.file("e.ckpt"), "mlp-2x64");
  CHECK(loaded.tensors.empty());
  CHECK(loaded.optimizer.is_null());
  CHECK(loaded.settings.is_null());  // none recorded: the header has no "settings"
  CHECK(torus::testing::file_bytes(dir.file("e.ckpt")).find("settings") == std::string::npos);
  CHECK(loaded.rng_state.empty());
  require_throws_with<MismatchError>([&] { load_checkpoint(dir.file("e.ckpt"), "mlp-2x128"); },
                                     {"architecture", "as a whole: expected \"mlp-2x128\", found \"mlp-2x64\""});
}

TEST_CASE("checkpoint helpers add, list and restore tensors by prefix", "[nn][io]") {
  Parameter<float> w{random_floats({2, 3}, 10), {}}, b{random_floats({2}, 11), {}};
  const nn::NamedParameters<float> params = {{"fc.weight", &w}, {"fc.bias", &b}};
  const std::map<std::string, Tensor<float>> state = {{"fc.weight.momentum", random_floats({2, 3}, 12)}};
  Checkpoint c;
  add_tensors(c, kModelPrefix, params);
  add_tensors(c, kOptimizerPrefix, state);
  REQUIRE(c.tensors.size() == 3);
  CHECK(c.tensors[0].first == "model/fc.weight");
  CHECK(c.tensors[2].first == "optim/fc.weight.momentum");
  const auto optim = tensors_under(c, kOptimizerPrefix);
  REQUIRE(optim.size() == 1);
  CHECK(torus::testing::bit_identical(optim.at("fc.weight.momentum"), state.at("fc.weight.momentum")));

  Parameter<float> w2{Tensor<float>(Shape{2, 3}), {}}, b2{Tensor<float>(Shape{2}), {}};
  restore_parameters(c, kModelPrefix, {{"fc.weight", &w2}, {"fc.bias", &b2}});
  CHECK(torus::testing::bit_identical(w2.value, w.value));
  CHECK(torus::testing::bit_identical(b2.value, b.value));

  // A mismatch is named and nothing changes.
  Parameter<float> w3{Tensor<float>(Shape{2, 3}, 5.0f), {}}, b3{Tensor<float>(Shape{3}, 5.0f), {}};
  require_throws_with<MismatchError>(
      [&] {
        restore_parameters(c, kModelPrefix, {{"fc.weight", &w3}, {"fc.bias", &b3}});
      },
      {"checkpoint (model/)", "tensor \"fc.bias\" has shape [2], expected [3]"});
  CHECK(w3.value[0] == 5.0f);
  require_throws_with<MismatchError>(
      [&] {
        restore_parameters(c, kModelPrefix, {{"fc.weight", &w3}});
      },
      {"unexpected tensor \"fc.bias\""});
  CHECK(w3.value[0] == 5.0f);
}

TEST_CASE("save_checkpoint refuses repeated names and non-UTF-8 text, keeping the old file", "[nn][io]") {
  ScratchDir dir("ckpt_save_refused");
  const std::string path = dir.file("run.ckpt");
  save_checkpoint(path, sample_checkpoint());
  const std::string before = torus::testing::file_bytes(path);
  Checkpoint twice = sample_checkpoint();
  twice.tensors.push_back(twice.tensors[0]);
  CHECK_THROWS_AS(save_checkpoint(path, twice), std::invalid_argument);
  Checkpoint binary = sample_checkpoint();
  binary.rng_state = "\xff\x00\x01";
  CHECK_THROWS_AS(save_checkpoint(path, binary), std::invalid_argument);
  CHECK(torus::testing::file_bytes(path) == before);
  CHECK(dir.listing() == std::vector<std::string>{"run.ckpt"});
}

TEST_CASE("a truncated checkpoint says truncated, wherever it was cut", "[nn][io]") {
  ScratchDir dir("ckpt_truncated");
  const std::string good = dir.file("good.ckpt");
  save_checkpoint(good, sample_checkpoint());
  const std::string bytes = torus::testing::file_bytes(good);
  const std::string path = dir.file("cut.ckpt");
  for (const std::size_t keep :
       {std::size_t(0), std::size_t(5), std::size_t(8), std::size_t(12), std::size_t(20), std::size_t(27),
        std::size_t(40), bytes.size() / 2, bytes.size() - 5, bytes.size() - 1}) {
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    torus::testing::write_bytes(path, bytes.substr(0, keep));
    require_throws_with<FormatError>([&] { load_checkpoint(path, kArchitecture); }, {path, "truncated"});
  }
}

TEST_CASE("a damaged checkpoint is refused as corrupt by its CRC", "[nn][io]") {
  ScratchDir dir("ckpt_corrupt");
  const std::string good = dir.file("good.ckpt");
  save_checkpoint(good, sample_checkpoint());
  const std::string bytes = torus::testing::file_bytes(good);
  uint32_t header_length = 0;
  std::memcpy(&header_length, bytes.data() + 12, 4);
  const std::string path = dir.file("flipped.ckpt");
  // One byte in the header, one in the data, one in the stored CRC.
  for (const std::size_t at : {std::size_t(24 + 10), std::size_t(24 + header_length + 7), bytes.size() - 2}) {
    INFO("flipped byte " << at);
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    torus::testing::write_bytes(path, damaged);
    require_throws_with<FormatError>([&] { load_checkpoint(path, kArchitecture); }, {path, "corrupt: CRC-32"});
  }
  torus::testing::write_bytes(path, bytes + "extra");
  require_throws_with<FormatError>([&] { load_checkpoint(path, kArchitecture); }, {path, "corrupt", "trailing bytes"});
}

TEST_CASE("every single-byte change and every cut of a checkpoint is detected", "[nn][io]") {
  ScratchDir dir("ckpt_fuzz");
  Checkpoint c = sample_checkpoint();
  c.rng_state = "42";  // keep the file small: every byte gets flipped
  c.tensors.resize(2);
  c.tensors[0].second = random_floats({2, 2}, 9);
  save_checkpoint(dir.file("good.ckpt"), c);
  const std::string bytes = torus::testing::file_bytes(dir.file("good.ckpt"));
  const std::string path = dir.file("damaged.ckpt");
  int refused = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x04);
    torus::testing::write_bytes(path, damaged);
    try {
      load_checkpoint(path, kArchitecture);
    } catch (const FormatError& e) {
      ++refused;
      CHECK_THAT(e.what(), Catch::StartsWith(path + ": "));
    }
  }
  for (std::size_t keep = 0; keep < bytes.size(); ++keep) {
    torus::testing::write_bytes(path, bytes.substr(0, keep));
    try {
      load_checkpoint(path, kArchitecture);
    } catch (const FormatError& e) {
      ++refused;
    }
  }
  CHECK(refused == static_cast<int>(2 * bytes.size()));
}

TEST_CASE("a foreign file, another version and another architecture are each named", "[nn][io]") {
  ScratchDir dir("ckpt_identity");
  const std::string good = dir.file("good.ckpt");
  save_checkpoint(good, sample_checkpoint());
  const std::string bytes = torus::testing::file_bytes(good);
  const std::string path = dir.file("other.ckpt");

  std::string foreign = bytes;
  foreign.replace(0, 8, "PK\x03\x04xxxx");
  torus::testing::write_bytes(path, foreign);
  require_throws_with<FormatError>([&] { load_checkpoint(path, kArchitecture); },
                                   {path, "not a torus checkpoint", "starts with \"PK\\x03\\x04xxxx\"", "TORUSCKP"});
  torus::testing::write_bytes(path, "GIF8");
  require_throws_with<FormatError>([&] { load_checkpoint(path, kArchitecture); }, {path, "not a torus checkpoint"});

  std::string newer = bytes;
  newer[8] = 2;
  torus::testing::write_bytes(path, newer);
  require_throws_with<FormatError>([&] { load_checkpoint(path, kArchitecture); },
                                   {path, "format version 2, this build reads version 1"});

  nlohmann::json wider = kArchitecture;
  wider["embedding_dim"] = 128;
  require_throws_with<MismatchError>([&] { load_checkpoint(good, wider); },
                                     {good, "architecture differs", "at /embedding_dim: expected 128, found 64"});
  nlohmann::json more = kArchitecture;
  more["dropout"] = 0.1;
  require_throws_with<MismatchError>([&] { load_checkpoint(good, more); },
                                     {good, "at /dropout: expected 0.1, the file has no such field"});
  nlohmann::json fewer = kArchitecture;
  fewer.erase("head");
  require_throws_with<MismatchError>([&] { load_checkpoint(good, fewer); },
                                     {good, "at /head: the file has \"torusN\", expected no such field"});
  nlohmann::json channels = kArchitecture;
  channels["channels"][1] = 96;
  require_throws_with<MismatchError>([&] { load_checkpoint(good, channels); },
                                     {good, "at /channels/1: expected 96, found 64"});
  // read_checkpoint skips the comparison.
  CHECK(read_checkpoint(good).architecture == kArchitecture);
}

TEST_CASE("a malformed header behind a valid CRC is still refused", "[nn][io]") {
  ScratchDir dir("ckpt_header");
  const std::string path = dir.file("crafted.ckpt");
  const std::string fields = R"("architecture":"a","epoch":1,"step":2,"rng_state":"","optimizer":null,)";
  const auto refused = [&](const std::string& header, const std::string& data,
                           std::initializer_list<std::string> fragments) {
    write_framed(path, header, data);
    INFO("header: " << header);
    require_throws_with<FormatError>([&] { load_checkpoint(path, "a"); }, fragments);
  };
  // The hand framing itself is right: a valid header loads.
  write_framed(path, "{" + fields + R"("tensors":[{"name":"t","dtype":"F32","shape":[1],"data_offsets":[0,4]}]})",
               std::string(4, '\0'));
  CHECK(load_checkpoint(path, "a").tensors.size() == 1);

  refused("{" + fields +
              R"("tensors":[{"name":"a","dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"({"name":"b","dtype":"F32","shape":[2],"data_offsets":[4,12]}]})",
          std::string(12, '\0'), {path, "tensor \"b\"", "overlap tensor \"a\""});
  refused("{" + fields +
              R"("tensors":[{"name":"b","dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
              R"({"name":"a","dtype":"F32","shape":[1],"data_offsets":[0,4]}]})",
          std::string(8, '\0'), {path, "tensor \"b\"", "leave bytes [0, 4)"});
  refused("{" + fields +
              R"("tensors":[{"name":"a","dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
              R"({"name":"a","dtype":"F32","shape":[1],"data_offsets":[4,8]}]})",
          std::string(8, '\0'), {path, "\"a\" appears twice"});
  refused("{" + fields + R"("tensors":[{"name":"i","dtype":"I64","shape":[1],"data_offsets":[0,8]}]})",
          std::string(8, '\0'), {path, "dtype \"I64\" is not supported (expected \"F32\")"});
  refused("{" + fields + R"("tensors":[{"name":"d","dtype":"F64","shape":[1],"data_offsets":[0,8]}]})",
          std::string(8, '\0'), {path, "dtype \"F64\" is not supported"});
  refused("{" + fields + R"("tensors":[{"dtype":"F32","shape":[1],"data_offsets":[0,4]}]})", std::string(4, '\0'),
          {path, "tensor table entry 0 has no string \"name\""});
  refused("{" + fields + R"("tensors":[]})", std::string(4, '\0'), {path, "4 trailing bytes"});
  refused("{" + fields + R"("tensors":{}})", "", {path, "\"tensors\" is not an array"});
  refused(R"({"architecture":"a","step":2,"rng_state":"","optimizer":null,"tensors":[]})", "", {path, "no \"epoch\""});
  refused(R"({"architecture":"a","epoch":1.5,"step":2,"rng_state":"","optimizer":null,"tensors":[]})", "",
          {path, "\"epoch\" is 1.5, expected a 64-bit integer"});
  refused(R"({"architecture":"a","epoch":18446744073709551615,"step":2,"rng_state":"","optimizer":null,"tensors":[]})",
          "", {path, "expected a 64-bit integer"});
  refused(R"({"architecture":"a","epoch":1,"step":2,"rng_state":5,"optimizer":null,"tensors":[]})", "",
          {path, "\"rng_state\" is 5, expected a string"});
  // Counters a run never writes, with a valid CRC: epoch -5 made a resumed run rewrite metrics.csv
  // from nothing, epoch 2^62 made it finish at once.
  refused(R"({"architecture":"a","epoch":-5,"step":2,"rng_state":"","optimizer":null,"tensors":[]})", "",
          {path, "\"epoch\" is -5, expected 0..1000000"});
  refused(R"({"architecture":"a","epoch":4611686018427387904,"step":2,"rng_state":"","optimizer":null,"tensors":[]})", "",
          {path, "\"epoch\" is 4611686018427387904, expected 0..1000000"});
  refused(R"({"architecture":"a","epoch":1,"step":-1,"rng_state":"","optimizer":null,"tensors":[]})", "",
          {path, "\"step\" is -1, expected 0..9007199254740992"});
  refused(R"({"epoch":1,"step":2,"rng_state":"","optimizer":null,"tensors":[]})", "", {path, "no \"architecture\""});
  refused(R"({"architecture":"a","epoch":1,"step":2,"rng_state":"","optimizer":null,"settings":[1],"tensors":[]})", "",
          {path, "\"settings\" is [1], expected an object"});
  refused(R"({"architecture":"a",)", "", {path, "not valid JSON"});
  refused("[]", "", {path, "not a JSON object"});

  // A header length that runs into the CRC.
  write_framed(path, "{}", "");
  std::string bytes = torus::testing::file_bytes(path);
  const uint32_t too_long = 100;
  std::memcpy(bytes.data() + 12, &too_long, 4);
  const std::string covered = bytes.substr(0, bytes.size() - 4);
  torus::testing::write_bytes(path, covered + torus::testing::le_bytes(crc_of(covered)));
  require_throws_with<FormatError>([&] { load_checkpoint(path, "a"); }, {path, "header length 100 exceeds"});
}
