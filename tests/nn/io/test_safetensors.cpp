// safetensors: bit-identical round trips (0-d, empty and rank-6 tensors, an empty file), the byte
// layout the format prescribes, and one precise error per kind of damage, each naming the file.
#include "io_test_util.hpp"

#include "nn/io/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace torus;
using namespace torus::nn::io;
using torus::testing::require_throws_with;
using torus::testing::ScratchDir;

namespace {

Tensor<float> random_floats(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  Tensor<float> t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = normal(rng);
  return t;
}

// A file made by hand: the 8-byte length, the header text as given (no padding), then `data`.
void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  torus::testing::write_bytes(path, torus::testing::le_bytes<uint64_t>(header.size()) + header + data);
}

std::string zeros(std::size_t n) { return std::string(n, '\0'); }

}  // namespace

TEST_CASE("safetensors round trip is bit-identical and keeps the given order", "[nn][io]") {
  ScratchDir dir("st_round_trip");
  const std::string path = dir.file("model.safetensors");
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor<float> special(Shape{6}, {-0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(),
                                         std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max()});
  const Tensor<float> weight = random_floats({3, 5}, 1);
  const Tensor<float> scalar(Shape{}, {2.5f});  // rank 0, one element
  const Tensor<float> one(Shape{1}, {-7.0f});
  const Tensor<float> empty(Shape{0, 4});
  const Tensor<float> deep = random_floats({2, 1, 3, 1, 2, 2}, 2);
  // Deliberately not alphabetical: the file must keep this order.
  const TensorRefs refs = {{"z.weight", &weight}, {"special", &special}, {"a.scalar", &scalar},
                           {"one", &one},         {"empty", &empty},     {"deep", &deep}};
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "gr\u00fc\u00dfe \"quoted\""}};
  save_safetensors(path, refs, metadata);

  const SafetensorsFile file = load_safetensors(path);
  REQUIRE(file.tensors.size() == refs.size());
  for (std::size_t i = 0; i < refs.size(); ++i) {
    INFO("tensor " << refs[i].first);
    CHECK(file.tensors[i].first == refs[i].first);
    CHECK(torus::testing::bit_identical(file.tensors[i].second, *refs[i].second));
  }
  CHECK(file.metadata == metadata);
  REQUIRE(file.find("a.scalar"));
  CHECK(file.find("a.scalar")->shape().rank() == 0);
  CHECK(file.find("missing") == nullptr);
  CHECK(dir.listing() == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("safetensors with no tensors round trips, with and without metadata", "[nn][io]") {
  ScratchDir dir("st_empty");
  save_safetensors(dir.file("none.safetensors"), {});
  const std::string bytes = torus::testing::file_bytes(dir.file("none.safetensors"));
  CHECK(bytes == torus::testing::le_bytes<uint64_t>(8) + "{}      ");
  SafetensorsFile file = load_safetensors(dir.file("none.safetensors"));
  CHECK(file.tensors.empty());
  CHECK(file.metadata.empty());

  save_safetensors(dir.file("meta.safetensors"), {}, {{"epoch", "3"}});
  file = load_safetensors(dir.file("meta.safetensors"));
  CHECK(file.tensors.empty());
  CHECK(file.metadata == std::map<std::string, std::string>{{"epoch", "3"}});
}

TEST_CASE("safetensors layout: little-endian length, padded JSON header, data back to back", "[nn][io]") {
  ScratchDir dir("st_layout");
  const std::string path = dir.file("layout.safetensors");
  const Tensor<float> b(Shape{3}, {1.0f, 2.0f, 3.0f});
  const Tensor<float> a(Shape{2, 1}, {-1.0f, 0.5f});
  save_safetensors(path, {{"b", &b}, {"a", &a}}, {{"k", "v"}});
  const std::string bytes = torus::testing::file_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + 5 * sizeof(float));
  const auto header = nlohmann::json::parse(bytes.substr(8, n));  // trailing spaces are JSON whitespace
  CHECK(header["__metadata__"] == nlohmann::json{{"k", "v"}});
  CHECK(header["b"] == nlohmann::json{{"dtype", "F32"}, {"shape", {3}}, {"data_offsets", {0, 12}}});
  CHECK(header["a"] == nlohmann::json{{"dtype", "F32"}, {"shape", {2, 1}}, {"data_offsets", {12, 20}}});
  float data[5];
  std::memcpy(data, bytes.data() + 8 + n, sizeof data);
  CHECK(data[0] == 1.0f);
  CHECK(data[3] == -1.0f);
  CHECK(data[4] == 0.5f);
}

TEST_CASE("save_safetensors refuses bad names before touching the file", "[nn][io]") {
  ScratchDir dir("st_bad_names");
  const std::string path = dir.file("m.safetensors");
  const Tensor<float> t(Shape{1}, {1.0f});
  CHECK_THROWS_AS(save_safetensors(path, {{"w", &t}, {"w", &t}}), std::invalid_argument);
  CHECK_THROWS_AS(save_safetensors(path, {{"__metadata__", &t}}), std::invalid_argument);
  CHECK_THROWS_AS(save_safetensors(path, {{"w", nullptr}}), std::invalid_argument);
  CHECK_THROWS_AS(save_safetensors(path, {{"\xff\xfe", &t}}), std::invalid_argument);
  CHECK(dir.listing().empty());
  // The folder does not exist: IoError naming the path, nothing written.
  require_throws_with<IoError>(
      [&] {
        save_safetensors(dir.file("no/such/dir.safetensors"), {{"w", &t}});
      },
      {dir.file("no/such/dir.safetensors"), "No such file or directory"});
}

TEST_CASE("safetensors reads F64 by converting and refuses every other dtype", "[nn][io]") {
  ScratchDir dir("st_dtypes");
  const std::string f64 = dir.file("f64.safetensors");
  const double values[3] = {0.1, -2.0, 1e300};
  write_raw(f64, R"({"x":{"dtype":"F64","shape":[3],"data_offsets":[0,24]}})",
            std::string(reinterpret_cast<const char*>(values), sizeof values));
  const SafetensorsFile file = load_safetensors(f64);
  REQUIRE(file.tensors.size() == 1);
  CHECK(file.tensors[0].second[0] == 0.1f);
  CHECK(file.tensors[0].second[1] == -2.0f);
  CHECK(std::isinf(file.tensors[0].second[2]));

  for (const std::string dtype : {"I64", "F16", "BF16", "U8", "BOOL", "f32", "complex"}) {
    const std::string path = dir.file("dtype.safetensors");
    write_raw(path, R"({"x":{"dtype":")" + dtype + R"(","shape":[1],"data_offsets":[0,8]}})", zeros(8));
    require_throws_with<FormatError>(
        [&] { load_safetensors(path); },
        {path, "tensor \"x\"", "dtype \"" + dtype + "\" is not supported", "expected \"F32\""});
  }
}

TEST_CASE("safetensors truncated anywhere is refused with the file name", "[nn][io]") {
  ScratchDir dir("st_truncated");
  const std::string good = dir.file("good.safetensors");
  const Tensor<float> a = random_floats({4, 4}, 3), b = random_floats({7}, 4);
  save_safetensors(good, {{"a", &a}, {"b", &b}});
  const std::string bytes = torus::testing::file_bytes(good);
  const std::string path = dir.file("cut.safetensors");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);

  for (const std::size_t keep : {std::size_t(0), std::size_t(3), std::size_t(7)}) {
    torus::testing::write_bytes(path, bytes.substr(0, keep));
    require_throws_with<FormatError>([&] { load_safetensors(path); }, {path, "shorter than the 8-byte header length"});
  }
  for (const std::size_t keep : {std::size_t(8), std::size_t(20), std::size_t(8 + n - 1)}) {
    torus::testing::write_bytes(path, bytes.substr(0, keep));
    require_throws_with<FormatError>([&] { load_safetensors(path); },
                                     {path, "header length " + std::to_string(n), "(file truncated?)"});
  }
  // Cut inside the data region: some tensor now reaches past its end.
  for (const std::size_t keep : {std::size_t(8 + n), std::size_t(8 + n + 64), bytes.size() - 1}) {
    torus::testing::write_bytes(path, bytes.substr(0, keep));
    require_throws_with<FormatError>([&] { load_safetensors(path); },
                                     {path, "tensor \"", "reaches past the end", "truncated"});
  }
}

TEST_CASE("safetensors header problems each get their own message", "[nn][io]") {
  ScratchDir dir("st_header");
  const std::string path = dir.file("bad.safetensors");
  const auto refused = [&](const std::string& header, const std::string& data,
                           std::initializer_list<std::string> fragments) {
    write_raw(path, header, data);
    INFO("header: " << header);
    require_throws_with<FormatError>([&] { load_safetensors(path); }, fragments);
  };

  // Framing: an absurd length, and one larger than the file.
  torus::testing::write_bytes(path, torus::testing::le_bytes<uint64_t>(uint64_t(1) << 40) + "{}");
  require_throws_with<FormatError>([&] { load_safetensors(path); }, {path, "exceeds the limit of 100000000 bytes"});
  torus::testing::write_bytes(path, torus::testing::le_bytes<uint64_t>(1000) + "{}");
  require_throws_with<FormatError>([&] { load_safetensors(path); }, {path, "header length 1000 exceeds the 2 bytes"});

  // JSON itself.
  refused(R"({"x": {"dtype": "F32",)", "", {path, "not valid JSON"});
  refused("{}\x01", "", {path, "not valid JSON"});
  refused(R"([1, 2])", "", {path, "not a JSON object"});
  refused(
      R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      zeros(8), {path, "\"x\" appears twice"});
  refused(std::string(100, '[') + std::string(100, ']'), "", {path, "nested deeper than 64"});

  // Fields of an entry.
  refused(R"({"x": 3})", "", {path, "tensor \"x\"", "expected an object"});
  refused(R"({"x":{"shape":[1],"data_offsets":[0,4]}})", zeros(4), {path, "tensor \"x\"", "missing field \"dtype\""});
  refused(R"({"x":{"dtype":"F32","data_offsets":[0,4]}})", zeros(4), {path, "missing field \"shape\""});
  refused(R"({"x":{"dtype":"F32","shape":[1]}})", zeros(4), {path, "missing field \"data_offsets\""});
  refused(R"({"x":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", zeros(4), {path, "dtype is 7, expected a string"});
  refused(R"({"x":{"dtype":"F32","shape":{"a":1},"data_offsets":[0,4]}})", zeros(4), {path, "shape is an object"});
  refused(R"({"x":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,4]}})", zeros(4),
          {path, "shape entry 0 is -1, expected a non-negative integer"});
  refused(R"({"x":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}})", zeros(4), {path, "shape entry 0 is 2.5"});
  refused(R"({"x":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})", zeros(4), {path, "shape entry 0 is \"1\""});
  refused(R"({"x":{"dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4]}})", zeros(4), {path, "7 dimensions"});
  refused(R"({"x":{"dtype":"F32","shape":[0, 18446744073709551615],"data_offsets":[0,0]}})", "",
          {path, "larger than a dimension can be"});
  refused(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", zeros(4), {path, "expected [begin, end]"});
  refused(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", zeros(4), {path, "data_offsets begin is -4"});
  refused(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", zeros(8), {path, "[8, 4] has begin after end"});
  refused(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4000]}})", zeros(4),
          {path, "[0, 4000] reaches past the end of the 4-byte data region"});
  refused(R"({"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", zeros(12),
          {path, "hold 12 bytes, expected 16 for shape [2, 2] of F32"});
  refused(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,16]}})", zeros(16),
          {path, "expected more than 2^64"});

  // Layout of the data region.
  refused(
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
      zeros(24), {path, "tensor \"b\"", "overlap tensor \"a\" [0, 16]"});
  refused(
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
      zeros(16), {path, "overlap"});
  refused(
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[20,36]}})",
      zeros(36), {path, "tensor \"b\"", "leave bytes [16, 20) of the data region unused"});
  refused(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", zeros(12),
          {path, "8 trailing bytes: the tensors end at byte 4 of a 12-byte data region"});
  refused(R"({"__metadata__":{"k":1}})", "", {path, "\"__metadata__\" value of \"k\" is not a string"});
  refused(R"({"__metadata__":[]})", "", {path, "\"__metadata__\" is not a JSON object"});
}

TEST_CASE("safetensors entries may come in any header order; the data order wins", "[nn][io]") {
  ScratchDir dir("st_order");
  const std::string path = dir.file("order.safetensors");
  const float values[3] = {1.0f, 2.0f, 3.0f};
  write_raw(
      path,
      R"({"late":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"__metadata__":{},)"
      R"("none":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"early":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("mid":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}  )",
      std::string(reinterpret_cast<const char*>(values), sizeof values));
  const SafetensorsFile file = load_safetensors(path);
  REQUIRE(file.tensors.size() == 4);
  CHECK(file.tensors[0].first == "early");
  CHECK(file.tensors[1].first == "none");
  CHECK(file.tensors[2].first == "mid");
  CHECK(file.tensors[3].first == "late");
  CHECK(file.tensors[3].second[0] == 3.0f);
}

TEST_CASE("safetensors never crashes on damaged bytes: every cut and every byte flip", "[nn][io]") {
  ScratchDir dir("st_fuzz");
  const std::string good = dir.file("good.safetensors");
  const Tensor<float> a = random_floats({2, 3}, 5), b(Shape{}, {4.0f});
  save_safetensors(good, {{"a", &a}, {"b", &b}}, {{"m", "v"}});
  const std::string bytes = torus::testing::file_bytes(good);
  const std::string path = dir.file("damaged.safetensors");
  int refused = 0, loaded = 0;
  const auto attempt = [&](const std::string& damaged) {
    torus::testing::write_bytes(path, damaged);
    try {
      const SafetensorsFile file = load_safetensors(path);
      ++loaded;  // e.g. a flipped data byte, or a flip inside a name
    } catch (const FormatError& e) {
      ++refused;
      CHECK_THAT(e.what(), Catch::StartsWith(path + ": "));
    }
  };
  for (std::size_t keep = 0; keep < bytes.size(); ++keep) attempt(bytes.substr(0, keep));
  CHECK(loaded == 0);  // no strict prefix is a valid file
  for (std::size_t i = 0; i < bytes.size(); ++i)
    for (const unsigned char mask : {0x01, 0x20, 0x80, 0xff}) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ mask);
      attempt(damaged);
    }
  CHECK(refused > static_cast<int>(bytes.size()));
}

TEST_CASE("load_parameters fills a model only when names and shapes all match", "[nn][io]") {
  ScratchDir dir("st_parameters");
  const std::string path = dir.file("params.safetensors");
  Parameter<float> w{random_floats({3, 2}, 6), {}}, bias{random_floats({3}, 7), {}};
  const nn::NamedParameters<float> saved = {{"fc.weight", &w}, {"fc.bias", &bias}};
  save_parameters(path, saved, {{"epoch", "12"}});

  Parameter<float> w2{Tensor<float>(Shape{3, 2}), {}}, b2{Tensor<float>(Shape{3}), {}};
  const auto metadata = load_parameters(path, {{"fc.bias", &b2}, {"fc.weight", &w2}});  // order does not matter
  CHECK(metadata.at("epoch") == "12");
  CHECK(torus::testing::bit_identical(w2.value, w.value));
  CHECK(torus::testing::bit_identical(b2.value, bias.value));

  // Each mismatch is named, and the target parameters keep their values.
  Parameter<float> w3{Tensor<float>(Shape{3, 2}, 9.0f), {}}, b3{Tensor<float>(Shape{3}, 9.0f), {}};
  Parameter<float> extra{Tensor<float>(Shape{1}, 9.0f), {}}, wrong{Tensor<float>(Shape{2, 3}, 9.0f), {}};
  const Tensor<float> untouched(Shape{3, 2}, 9.0f);
  require_throws_with<MismatchError>(
      [&] {
        load_parameters(path, {{"fc.weight", &w3}, {"fc.bias", &b3}, {"fc.scale", &extra}});
      },
      {path, "missing tensor \"fc.scale\"", "expected shape [1]"});
  require_throws_with<MismatchError>(
      [&] {
        load_parameters(path, {{"fc.weight", &w3}});
      },
      {path, "unexpected tensor \"fc.bias\""});
  require_throws_with<MismatchError>(
      [&] {
        load_parameters(path, {{"fc.bias", &b3}, {"fc.weight", &wrong}});
      },
      {path, "tensor \"fc.weight\" has shape [3, 2], expected [2, 3]"});
  CHECK(torus::testing::bit_identical(w3.value, untouched));
  CHECK(b3.value[0] == 9.0f);
  CHECK(wrong.value[0] == 9.0f);
  CHECK_THROWS_AS(load_parameters(path, {{"fc.weight", &w3}, {"fc.weight", &w3}}), std::invalid_argument);
}
