// torus-train's pieces end to end on small generated data: the configuration table (file, flags,
// errors), a whole run folder on feature vectors, and resuming it bit for bit.
#include <catch2/catch.hpp>

#include "datasets/image_folder.hpp"
#include "datasets/npy.hpp"
#include "datasets/synthetic_calls.hpp"
#include "nn/io/checkpoint.hpp"
#include "autodiff/ops.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/nonfinite.hpp"
#include "train/run_log.hpp"
#include "train/input_record.hpp"
#include "train/run_folder.hpp"
#include "train/data_source.hpp"
#include "train/trainer.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <zlib.h>

using namespace torus;
namespace fs = std::filesystem;

namespace {
// An 8-bit grey PNG, written with zlib: IHDR, one IDAT of filter-0 rows, IEND.
void write_grey_png(const std::string& path, int w, int h, const std::vector<uint8_t>& px) {
  const auto be32 = [](std::string& out, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out += char((v >> s) & 0xff);
  };
  const auto chunk = [&](std::string& out, const char* type, const std::string& data) {
    be32(out, uint32_t(data.size()));
    const std::string body = std::string(type, 4) + data;
    out += body;
    be32(out, uint32_t(::crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
  };
  std::string ihdr, raw;
  be32(ihdr, uint32_t(w));
  be32(ihdr, uint32_t(h));
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);
  for (int y = 0; y < h; ++y) raw += '\0' + std::string(px.begin() + y * w, px.begin() + (y + 1) * w);
  uLongf n = compressBound(uLong(raw.size()));
  std::string z(n, '\0');
  REQUIRE(compress(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size())) == Z_OK);
  z.resize(n);
  std::string png = "\x89PNG\r\n\x1a\n";
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  std::ofstream(path, std::ios::binary) << png;
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = (fs::temp_directory_path() / ("torus_test_run_" + name)).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// n feature vectors of `dim` around one Gaussian centre per class (4 classes), saved as .npy.
void write_clusters(const std::string& features, const std::string& labels, int n, int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> centres(size_t(4 * dim));
  std::mt19937_64 centre_rng(7);
  for (float& c : centres) c = 3 * g(centre_rng);
  std::vector<float> x(static_cast<size_t>(n * dim));
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    y[size_t(i)] = i % 4;
    for (int d = 0; d < dim; ++d) x[size_t(i * dim + d)] = centres[size_t(y[size_t(i)] * dim + d)] + g(rng);
  }
  datasets::write_npy(features, x.data(), n, dim);
  datasets::write_npy(labels, y);
}

train::TrainConfig features_config(const std::string& dir) {
  write_clusters(dir + "/train.npy", dir + "/train_labels.npy", 480, 24, 1);
  write_clusters(dir + "/test.npy", dir + "/test_labels.npy", 160, 24, 2);
  train::TrainConfig c;
  c.dataset = "features";
  c.arch = "head";
  c.path = dir + "/train.npy";
  c.labels = dir + "/train_labels.npy";
  c.test_path = dir + "/test.npy";
  c.test_labels = dir + "/test_labels.npy";
  c.holdout = 80;
  c.references = 0;
  c.dim = 8;
  c.batch = 40;
  c.epochs = 4;
  c.threads = 1;
  c.optimizer = "adam";
  c.lr = 0.003;
  c.ema = 0.9;
  c.koleo = 0.1;
  c.views = 1;
  return c;
}

std::vector<std::pair<std::string, std::vector<float>>> tensors_of(const std::string& path) {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (const auto& [name, t] : nn::io::read_checkpoint(path).tensors)
    out.emplace_back(name, std::vector<float>(t.data(), t.data() + t.numel()));
  return out;
}
}  // namespace

TEST_CASE("configuration: TOML file, flags winning, and errors that name the key", "[train][config]") {
  const std::string dir = fresh_dir("config");
  train::TrainConfig c;
  train::apply_toml_file(c, write_text(dir + "/a.toml", "[optim]\nlr = 0.2\nschedule = \"step\"\n[train]\nepochs = 3\n"
                                                          "[model]\nhead = \"sphere\"\n"));
  CHECK(c.lr == 0.2);
  CHECK(c.schedule == "step");
  CHECK(c.epochs == 3);
  CHECK(c.head == "sphere");
  CHECK(c.dim == 16);  // untouched keys keep their defaults

  // flags go through the same checks and win
  CLI::App app;
  std::vector<std::pair<std::string, std::string>> pending;
  train::add_setting_flags(app, pending);
  const char* argv[] = {"torus-train", "--optim.lr", "0.01", "--model.dim", "32", "--optim.nesterov", "true"};
  app.parse(7, const_cast<char**>(argv));
  train::apply_flags(c, pending);
  CHECK(c.lr == 0.01);
  CHECK(c.dim == 32);
  CHECK(c.nesterov);

  // the resolved configuration reads back to the same values
  train::TrainConfig back;
  train::apply_toml_file(back, write_text(dir + "/resolved.toml", train::to_toml(c)));
  CHECK(train::to_toml(back) == train::to_toml(c));

  const auto err = [&](const std::string& text) {
    train::TrainConfig x;
    return error_of([&] { train::apply_toml_file(x, write_text(dir + "/bad.toml", text)); });
  };
  CHECK_THAT(err("[optim]\nlearning_rate = 0.1\n"),
             Catch::Contains("bad.toml:2: optim.learning_rate: unknown key") && Catch::Contains("lr, momentum"));
  CHECK_THAT(err("[optimiser]\nlr = 0.1\n"), Catch::Contains("unknown section") && Catch::Contains("[optim]"));
  // lr 0 passed the range check and failed later without naming the key.
  CHECK_THAT(err("[optim]\nlr = 0\n"), Catch::Contains("optim.lr: expected a value in (0, 100], got 0"));
  // A path that is not UTF-8 cannot round-trip through config.toml: refused, naming the key.
  train::TrainConfig latin1;
  latin1.dataset = "features";
  latin1.arch = "head";
  latin1.path = "caf\xe9.npy";
  latin1.labels = "labels.npy";
  CHECK_THAT(error_of([&] { train::validate(latin1); }), Catch::Contains("data.path") && Catch::Contains("not valid UTF-8"));
  latin1.path = "caf\xc3\xa9.npy";  // the same name in UTF-8 is fine
  CHECK_NOTHROW(train::validate(latin1));
  CHECK_THAT(err("[optim]\nlr = -1.0\n"), Catch::Contains("optim.lr: expected a value in (0, 100], got -1"));
  CHECK_THAT(err("[model]\nhead = \"torus\"\n"),
             Catch::Contains("model.head: expected one of none, sphere, torusN, torusC, spherization"));
  CHECK_THAT(err("[train]\nepochs = 2.5\n"), Catch::Contains("train.epochs: expected an integer"));
  CHECK_THAT(err("[train]\nepochs = \n"), Catch::Contains("bad.toml:2") && Catch::Contains("not valid TOML"));
  std::vector<std::pair<std::string, std::string>> bad_flag = {{"train.batch", "many"}};
  CHECK_THAT(error_of([&] { train::apply_flags(c, bad_flag); }),
             Catch::Contains("--train.batch: expected an integer in [2, 65536], got \"many\""));

  train::TrainConfig odd;
  odd.dim = 15;
  CHECK_THAT(error_of([&] { train::validate(odd); }), Catch::Contains("model.dim: torusN needs an even D"));
}

TEST_CASE("a run on feature vectors: run folder, precision, and a resume that is bit-identical", "[train][run]") {
  const std::string dir = fresh_dir("features");
  train::TrainConfig c = features_config(dir);
  train::RunOptions whole;
  whole.dir = dir + "/whole";
  fs::create_directories(whole.dir);
  const train::RunSummary s = train::train_run(c, whole);
  CHECK(s.epochs_done == 4);
  CHECK(s.last_precision_at_1 > 0.95);  // four well-separated clusters
  for (const char* f : {"metrics.csv", "last.ckpt", "best.ckpt", "loss.png", "precision.png", "circular_variance.png",
                        "embeddings.png", "loss.svg", "precision.svg", "circular_variance.svg", "embeddings.svg"})
    CHECK(fs::exists(whole.dir + "/" + f));
  std::ifstream csv(whole.dir + "/metrics.csv");
  std::string line;
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  CHECK(rows == 5);  // header + one row per epoch

  // Two epochs, then resume to four: the same weights, optimiser state and EMA, bit for bit.
  train::RunOptions part;
  part.dir = dir + "/part";
  fs::create_directories(part.dir);
  train::TrainConfig first = c;
  first.epochs = 2;
  first.schedule = "constant";  // a schedule over 2 epochs would differ from the one over 4
  train::TrainConfig all = c;
  all.schedule = "constant";
  train::RunOptions whole_constant;
  whole_constant.dir = dir + "/whole_constant";
  fs::create_directories(whole_constant.dir);
  train::train_run(all, whole_constant);
  train::train_run(first, part);
  part.resume = true;
  const train::RunSummary resumed = train::train_run(all, part);
  CHECK(resumed.epochs_done == 4);
  const auto a = tensors_of(whole_constant.dir + "/last.ckpt"), b = tensors_of(part.dir + "/last.ckpt");
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() > 10);  // weights, optimiser state and EMA averages
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second == b[i].second);
  }
  const auto ck = nn::io::read_checkpoint(part.dir + "/last.ckpt");
  CHECK(ck.epoch == 4);
  CHECK(ck.step == 4 * (400 / 40));
  // the resumed run's metrics keep epochs 1-2 and add 3-4
  std::ifstream pcsv(part.dir + "/metrics.csv");
  rows = 0;
  while (std::getline(pcsv, line)) ++rows;
  CHECK(rows == 5);

  // A checkpoint of another architecture is refused, and the run folder is left as it was.
  train::TrainConfig wider = all;
  wider.dim = 16;
  CHECK_THAT(error_of([&] { train::train_run(wider, part); }), Catch::Contains("last.ckpt"));
  CHECK(tensors_of(part.dir + "/last.ckpt") == b);
}

TEST_CASE("a run folder reads back: its configuration, checkpoint names, and the trained model", "[train][run]") {
  const std::string dir = fresh_dir("run_folder");
  train::TrainConfig c = features_config(dir);
  c.epochs = 1;
  train::RunOptions o;
  o.dir = dir + "/run";
  train::train_run(c, o);
  const train::TrainConfig back = train::read_run_config(o.dir);
  CHECK(train::to_toml(back) == train::to_toml(c));
  CHECK(train::checkpoint_path(o.dir, "best") == o.dir + "/best.ckpt");
  CHECK(train::checkpoint_path(o.dir, "last") == o.dir + "/last.ckpt");
  CHECK(train::checkpoint_path(o.dir, dir + "/other.ckpt") == dir + "/other.ckpt");
  const train::TrainedModel t = train::load_trained_model(back, {24}, train::checkpoint_path(o.dir, "last"));
  CHECK(t.progress.epoch == 1);
  CHECK_FALSE(t.model.net->training());
  const auto saved = nn::io::tensors_under(nn::io::read_checkpoint(o.dir + "/last.ckpt"), nn::io::kModelPrefix);
  for (const auto& [name, p] : t.model.net->parameters()) {
    INFO(name);
    REQUIRE(saved.count(name) == 1);
    const Tensor<float>& w = saved.at(name);
    CHECK(std::vector<float>(p->value.data(), p->value.data() + p->value.numel()) ==
          std::vector<float>(w.data(), w.data() + w.numel()));
  }
  CHECK_THAT(error_of([&] { train::load_trained_model(back, {25}, o.dir + "/last.ckpt"); }), Catch::Contains("last.ckpt"));
}

TEST_CASE("--debug names the first op with a non-finite value or gradient", "[train][debug]") {
  Tape<float> tape;
  const Var<float> x = tape.variable(Tensor<float>(Shape{3}, std::vector<float>{1.0f, -1.0f, 2.0f}));
  const Var<float> y = exp(x);
  CHECK_THAT(train::first_nonfinite_op(tape), Catch::Contains("every value and gradient on the tape is finite"));
  const Var<float> z = sum(log(x - y));  // log of a negative number: NaN in the forward pass
  CHECK_THAT(train::first_nonfinite_op(tape), Catch::Contains("forward: op \"log\""));
  tape.clear();
  // finite values, infinite gradient: sqrt'(0)
  const Var<float> a = tape.variable(Tensor<float>(Shape{2}, std::vector<float>{0.0f, 4.0f}));
  const Var<float> s = sum(sqrt(a));
  tape.backward(s);
  CHECK_THAT(train::first_nonfinite_op(tape), Catch::Contains("backward: the gradient of op"));
  (void)z;
}

TEST_CASE("a resume refuses a checkpoint that lost an optimiser state tensor", "[train][run]") {
  const std::string dir = fresh_dir("lost_slot");
  train::TrainConfig c = features_config(dir);
  c.epochs = 1;
  train::RunOptions o;
  o.dir = dir + "/run";
  train::train_run(c, o);
  nn::io::Checkpoint ck = nn::io::read_checkpoint(o.dir + "/last.ckpt");
  const auto before = ck.tensors.size();
  // The crafted file: one Adam moment fewer, CRC valid (written by save_checkpoint).
  const auto slot = std::find_if(ck.tensors.begin(), ck.tensors.end(),
                                 [](const auto& t) { return t.first.rfind(nn::io::kOptimizerPrefix, 0) == 0; });
  REQUIRE(slot != ck.tensors.end());
  ck.tensors.erase(slot);
  REQUIRE(ck.tensors.size() + 1 == before);
  nn::io::save_checkpoint(o.dir + "/last.ckpt", ck);
  train::TrainConfig more = c;
  more.epochs = 2;
  o.resume = true;
  CHECK_THAT(error_of([&] { train::train_run(more, o); }),
             Catch::Contains("last.ckpt") && Catch::Contains("state tensors, the file holds"));
}

TEST_CASE("a run killed between its metrics row and last.ckpt resumes to the uninterrupted result", "[train][run]") {
  const std::string dir = fresh_dir("crash_window");
  train::TrainConfig c = features_config(dir);
  c.schedule = "constant";
  c.epochs = 3;
  train::RunOptions whole;
  whole.dir = dir + "/whole";
  train::train_run(c, whole);

  // The interrupted run: two epochs, with last.ckpt of epoch 1 kept aside; then epoch 2's
  // checkpoint is replaced by epoch 1's, as if the process died after epoch 2's metrics row
  // (and best.ckpt) but before its last.ckpt was renamed into place.
  train::RunOptions part;
  part.dir = dir + "/part";
  train::TrainConfig one = c;
  one.epochs = 1;
  train::train_run(one, part);
  fs::copy_file(part.dir + "/last.ckpt", dir + "/epoch1.ckpt");
  part.resume = true;
  train::TrainConfig two = c;
  two.epochs = 2;
  train::train_run(two, part);
  fs::copy_file(dir + "/epoch1.ckpt", part.dir + "/last.ckpt", fs::copy_options::overwrite_existing);
  // ... and a temporary that a kill mid-write left behind.
  { std::ofstream(part.dir + "/.last.ckpt.tmp-999999999-0") << "half a checkpoint"; }

  const train::RunSummary resumed = train::train_run(c, part);
  CHECK(resumed.epochs_done == 3);
  CHECK(tensors_of(part.dir + "/last.ckpt") == tensors_of(whole.dir + "/last.ckpt"));
  CHECK(tensors_of(part.dir + "/best.ckpt") == tensors_of(whole.dir + "/best.ckpt"));
  CHECK_FALSE(fs::exists(part.dir + "/.last.ckpt.tmp-999999999-0"));
  // metrics.csv: epochs 1, 2, 3 once each (the row of the lost epoch 2 redone, not repeated)
  std::ifstream csv(part.dir + "/metrics.csv");
  std::string line;
  std::vector<std::string> epochs;
  std::getline(csv, line);
  while (std::getline(csv, line)) epochs.push_back(line.substr(0, line.find(',')));
  CHECK(epochs == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("a run folder in use by another torus-train is refused, not shared", "[train][run]") {
  const std::string dir = fresh_dir("locked");
  train::TrainConfig c = features_config(dir);
  c.epochs = 1;
  train::RunOptions o;
  o.dir = dir + "/run";
  fs::create_directories(o.dir);
  {
    const train::RunFolderLock other(o.dir);  // as a second process holding the folder would
    CHECK_THAT(error_of([&] { train::train_run(c, o); }),
               Catch::Contains(o.dir) && Catch::Contains("another torus-train is writing this run folder"));
    CHECK_FALSE(fs::exists(o.dir + "/config.toml"));  // nothing written by the refused run
  }
  CHECK(train::train_run(c, o).epochs_done == 1);  // free again once the holder is gone
}

TEST_CASE("an image-folder test split is labelled by the training classes' names", "[train][run]") {
  // The defect: the test folder lacks class "a", its own sorted list made "b" label 0 and "c"
  // label 1, and a run that should score 1.0 reported 0.0.
  const std::string dir = fresh_dir("folder_labels");
  for (const std::string split : {"train", "test"})
    for (const std::string cls : {"a", "b", "c"}) {
      if (split == "test" && cls == "a") continue;
      fs::create_directories(dir + "/" + split + "/" + cls);
      for (int i = 0; i < 2; ++i) {
        std::vector<uint8_t> px(8 * 8, uint8_t(40 * (cls[0] - 'a') + i));
        write_grey_png(dir + "/" + split + "/" + cls + "/" + std::to_string(i) + ".png", 8, 8, px);
      }
    }
  train::TrainConfig c;
  c.dataset = "folder";
  c.path = dir + "/train";
  c.test_path = dir + "/test";
  c.channels = 1;
  c.image_size = 8;
  c.holdout = 0;
  const train::Dataset d = train::load_dataset(c);
  CHECK(d.class_names == std::vector<std::string>{"a", "b", "c"});
  CHECK(d.test.labels() == std::vector<int>{1, 1, 2, 2});
  // A class the training set never saw is refused, naming it.
  fs::create_directories(dir + "/test/zebra");
  write_grey_png(dir + "/test/zebra/0.png", 8, 8, std::vector<uint8_t>(64, 7));
  CHECK_THAT(error_of([&] { train::load_dataset(c); }), Catch::Contains("zebra") && Catch::Contains("training classes"));
}

TEST_CASE("a run that stops in its first epoch leaves the folder as it found it", "[train][run]") {
  const std::string dir = fresh_dir("early_stop");
  train::TrainConfig c = features_config(dir);
  c.epochs = 1;
  train::RunOptions earlier;
  earlier.dir = dir + "/run";
  train::train_run(c, earlier);  // a finished run in the folder
  const auto kept = tensors_of(earlier.dir + "/last.ckpt");
  std::ifstream in(earlier.dir + "/metrics.csv");
  const std::string metrics((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  // Every label distinct and one view: no anchor has a positive, SupCon is exactly 0 and nothing
  // would train. The run stops after epoch 1 instead of ending "successfully".
  std::vector<float> x(80 * 24);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g;
  for (float& v : x) v = g(rng);
  std::vector<int64_t> distinct(80);
  for (int i = 0; i < 80; ++i) distinct[size_t(i)] = i;
  datasets::write_npy(dir + "/distinct.npy", x.data(), 80, 24);
  datasets::write_npy(dir + "/distinct_labels.npy", distinct);
  train::TrainConfig none = c;
  none.path = dir + "/distinct.npy";
  none.labels = dir + "/distinct_labels.npy";
  none.test_path = none.path;
  none.test_labels = none.labels;
  none.holdout = 0;
  none.koleo = 0;
  CHECK_THAT(error_of([&] { train::train_run(none, earlier); }),
             Catch::Contains("epoch 1: no anchor of any batch had a positive pair") && Catch::Contains("loss.views = 2"));
  CHECK(tensors_of(earlier.dir + "/last.ckpt") == kept);  // the earlier run is untouched
  std::ifstream again(earlier.dir + "/metrics.csv");
  CHECK(std::string((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>()) == metrics);
  // In a folder of its own, the stopped run leaves nothing behind.
  train::RunOptions fresh;
  fresh.dir = dir + "/new_run";
  CHECK_THROWS(train::train_run(none, fresh));
  CHECK_FALSE(fs::exists(fresh.dir));
}

TEST_CASE("an image folder gets the shape model.arch takes unless the settings give one", "[train][run]") {
  const std::string dir = fresh_dir("folder_shape");
  for (const std::string cls : {"a", "b"}) {
    fs::create_directories(dir + "/" + cls);
    for (int i = 0; i < 3; ++i)
      write_grey_png(dir + "/" + cls + "/" + std::to_string(i) + ".png", 10, 7, std::vector<uint8_t>(70, uint8_t(60 * i)));
  }
  train::TrainConfig c;
  c.dataset = "folder";
  c.path = dir;
  c.holdout = 1;
  c.arch = "convnet";  // took 3x32x32 before and then refused it
  CHECK(train::load_dataset(c).input_shape == std::vector<int64_t>{1, 28, 28});
  // Each image knows its file (torus-embed writes them to <split>_sources.json), subsets too.
  const train::Split all = train::load_split(c, "train");
  CHECK(all.images.files == std::vector<std::string>{"a/0.png", "a/1.png", "a/2.png", "b/0.png", "b/1.png", "b/2.png"});
  CHECK(all.subset({4, 1}).images.files == std::vector<std::string>{"b/1.png", "a/1.png"});
  std::mt19937_64 rng(0);
  CHECK_NOTHROW(train::make_model(c, train::load_dataset(c).input_shape, rng));
  c.arch = "resnet20";
  CHECK(train::load_dataset(c).input_shape == std::vector<int64_t>{3, 32, 32});
  c.channels = 1;
  c.image_size = 16;
  CHECK(train::load_dataset(c).input_shape == std::vector<int64_t>{1, 16, 16});
  CHECK(train::dataset_normalization(c).mean.size() == 1);
}

TEST_CASE("the held-out split is a fraction of the training set with a cap", "[train][run]") {
  train::TrainConfig c;  // holdout 5000, fraction 0.1
  CHECK(train::holdout_count(c, 60000) == 5000);  // Fashion-MNIST: as before
  CHECK(train::holdout_count(c, 50000) == 5000);
  CHECK(train::holdout_count(c, 300) == 30);      // a small folder keeps 90% to train on
  CHECK(train::holdout_count(c, 5) == 1);         // at least one query
  c.holdout_fraction = 0;
  CHECK(train::holdout_count(c, 300) == 5000);    // exactly data.holdout (then refused as too many)
  c.holdout = 0;
  CHECK(train::holdout_count(c, 300) == 0);       // the test split measures
}

TEST_CASE("path settings are stored absolute, so a run folder works from anywhere", "[train][config]") {
  train::TrainConfig c;
  c.path = "data/../train.npy";
  c.labels = "labels.csv";
  c.init = "/abs/init.safetensors";
  train::resolve_paths(c);
  const fs::path cwd = fs::current_path();
  CHECK(c.path == (cwd / "train.npy").string());
  CHECK(c.labels == (cwd / "labels.csv").string());
  CHECK(c.init == "/abs/init.safetensors");
  CHECK(c.test_path.empty());  // unset stays unset: the dataset's standard location
  CHECK(train::to_toml(c).find("path = '" + (cwd / "train.npy").string() + "'") != std::string::npos);
}

TEST_CASE("input.json records what the network takes, and a malformed one is named", "[train][run]") {
  const std::string dir = fresh_dir("input_record");
  datasets::AugmentConfig norm;
  norm.mean = {0.5f, 0.25f, 0.125f};
  norm.std = {0.2f, 0.3f, 0.4f};
  train::write_input_record(dir, train::make_input_record("cifar10", {3, 32, 32}, norm));
  bool found = false;
  const train::InputRecord r = train::read_input_record(dir, found);
  CHECK(found);
  CHECK(r.images);
  CHECK(r.shape == std::vector<int64_t>{3, 32, 32});
  CHECK(r.mean == norm.mean);
  CHECK(r.std == norm.std);
  CHECK(r.source == "cifar10");
  // One mean for every channel expands to one per channel.
  norm.mean = {0.286f};
  norm.std = {0.353f};
  CHECK(train::make_input_record("fashion-mnist", {1, 28, 28}, norm).mean == std::vector<float>{0.286f});
  CHECK(train::make_input_record("folder", {3, 8, 8}, norm).std == std::vector<float>(3, 0.353f));

  write_text(dir + "/input.json", R"({"kind": "images", "shape": [3, 32, 32], "source": "x", "mean": [0, 0, 0], "std": [1, 0, 1]})");
  CHECK_THAT(error_of([&] { train::read_input_record(dir, found); }),
             Catch::Contains("input.json") && Catch::Contains("\"std\" holds 0, expected a positive number"));
  write_text(dir + "/input.json", R"({"kind": "images", "shape": [3, 32], "source": "x"})");
  CHECK_THAT(error_of([&] { train::read_input_record(dir, found); }), Catch::Contains("\"shape\" is [3,32], expected 3 sizes"));
  fs::remove(dir + "/input.json");
  train::read_input_record(dir, found);
  CHECK_FALSE(found);  // a run folder from before input.json
}

TEST_CASE("metrics.csv from before the circular_variance column resumes, the column then NaN", "[train][run]") {
  const std::string dir = fresh_dir("old_metrics");
  const std::string path = dir + "/metrics.csv";
  nn::io::write_file_atomic(path, "epoch,loss,supcon,koleo,precision_at_1,lr,images_per_s,seconds\n"
                                  "1,2.5,2.5,0,0.5,0.01,100.0,1.00\n2,2.0,2.0,0,0.6,0.01,100.0,2.00\n3,1.9,1.9,0,0.7,0.01,100.0,3.00\n");
  {
    train::MetricsLog log(path, 2);
    REQUIRE(log.rows().size() == 2);
    CHECK(log.rows()[1].precision_at_1 == 0.6);
    CHECK(std::isnan(log.rows()[1].circular_variance));
    train::EpochMetrics row;
    row.epoch = 3, row.precision_at_1 = 0.75, row.circular_variance = 0.25;
    log.append(row);
  }
  // Rewritten with the new header, and read back as any new file is.
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  CHECK(header + "\n" == train::MetricsLog::header());
  train::MetricsLog again(path, 3);
  REQUIRE(again.rows().size() == 3);
  CHECK(std::isnan(again.rows()[0].circular_variance));
  CHECK(again.rows()[2].circular_variance == 0.25);
}

TEST_CASE("model.arch audio_cnn takes spectrogram-shaped inputs of any size", "[train][run]") {
  train::TrainConfig c;
  c.arch = "audio_cnn";
  c.width = 4;
  std::mt19937_64 rng(0);
  CHECK_NOTHROW(train::make_model(c, {1, 64, 100}, rng));
  CHECK_NOTHROW(train::make_model(c, {1, 128, 250}, rng));
  CHECK(train::architecture(c, {1, 64, 100})["width"] == 4);
  // ResNet-20 with one input channel takes spectrograms too (global pooling before the head).
  c.arch = "resnet20";
  train::Model r = train::make_model(c, {1, 32, 48}, rng);
  Tape<float> tape;
  const Var<float> z = r.net->forward(tape.constant(Tensor<float>(Shape({2, 1, 32, 48}), std::vector<float>(2 * 32 * 48, 0.5f))));
  CHECK(z.shape()[0] == 2);
  CHECK(z.shape()[1] == c.dim);
}

TEST_CASE("an audio-folder run: held-out classes, per-band statistics, input.json and the fewshot split", "[train][run][audio]") {
  const std::string dir = fresh_dir("audio");
  datasets::SyntheticCalls corpus;
  corpus.species = 6, corpus.clips_per_species = 6, corpus.clip_seconds = 1.0;
  datasets::write_synthetic_calls(corpus, dir + "/calls", {"wav"});
  train::TrainConfig c;
  c.dataset = "audio-folder", c.path = dir + "/calls", c.cache = dir + "/cache";
  c.fewshot_classes = 2, c.holdout = 4, c.holdout_fraction = 0, c.references = 0;
  c.n_mels = 16, c.n_fft = 256, c.hop = 160, c.crop_frames = 32;
  c.arch = "audio_cnn", c.width = 2, c.head = "torusN", c.dim = 4;
  c.epochs = 1, c.batch = 8, c.views = 2, c.threads = 1;
  c.time_shift = 3, c.gain_db = 3, c.time_masks = 1, c.time_mask = 4;
  train::validate(c);

  // Two classes, drawn by a fixed seed, never reach training: they are the fewshot split.
  const std::vector<std::string> all = datasets::image_folder_classes(c.path);
  const std::vector<std::string> held = train::fewshot_class_names(c, all);
  REQUIRE(held.size() == 2);
  const train::Dataset d = train::load_dataset(c);
  CHECK(d.input_shape == std::vector<int64_t>{1, 16, 32});
  CHECK(d.train.size() + d.queries.size() == 4 * 6);
  CHECK(d.queries.size() == 4);
  CHECK(d.classes == 6);
  for (const int label : d.train.labels()) CHECK_FALSE(std::binary_search(held.begin(), held.end(), all[size_t(label)]));
  const train::Split few = train::load_split(c, "fewshot");
  CHECK(few.size() == 2 * 6);
  for (const int label : few.labels()) CHECK(std::binary_search(held.begin(), held.end(), all[size_t(label)]));
  // The per-band statistics are the training clips' own.
  REQUIRE(d.normalization.mean.size() == 16);
  double sum = 0;
  int64_t frames = 0;
  for (size_t i = 0; i < d.train.audio.spectrograms.size(); ++i) {
    for (int64_t t = 0; t < d.train.audio.frames(i); ++t) sum += d.train.audio.spectrograms[i][size_t(3 * d.train.audio.frames(i) + t)];
    frames += d.train.audio.frames(i);
  }
  CHECK(d.normalization.mean[3] == Approx(sum / double(frames)).epsilon(1e-5));
  CHECK(d.normalization.std[3] > 0.1f);
  // Evaluation inputs: centre crops normalised per band.
  std::vector<float> x;
  d.queries.inputs(0, 2, d.normalization, x);
  CHECK(x.size() == size_t(2 * 16 * 32));

  train::RunOptions o;
  o.dir = dir + "/run";
  const train::RunSummary s = train::train_run(c, o);
  CHECK(s.epochs_done == 1);
  bool found = false;
  const train::InputRecord r = train::read_input_record(o.dir, found);
  REQUIRE(found);
  CHECK(r.log_mel);
  CHECK_FALSE(r.images);
  CHECK(r.shape == std::vector<int64_t>{1, 16, 32});
  CHECK(r.mel.n_mels == 16);
  CHECK(r.mel.hop == 160);
  CHECK(r.mean == d.normalization.mean);
  CHECK(r.std == d.normalization.std);

  // Held-out classes are an audio setting; one that leaves fewer than two classes is refused.
  train::TrainConfig images;
  images.fewshot_classes = 2;
  CHECK_THAT(error_of([&] { train::validate(images); }), Catch::Contains("data.fewshot_classes"));
  train::TrainConfig most = c;
  most.fewshot_classes = 5;
  CHECK_THAT(error_of([&] { train::fewshot_class_names(most, all); }), Catch::Contains("fewer than the 2"));
  train::TrainConfig wrong_arch = c;
  wrong_arch.arch = "convnet";
  CHECK_THAT(error_of([&] { train::validate(wrong_arch); }), Catch::Contains("model.arch") && Catch::Contains("log-mel"));
  fs::remove_all(dir);
}

TEST_CASE("loss.matryoshka trains every prefix of circles; it equals the plain run with one level of every circle", "[train][run]") {
  const std::string dir = fresh_dir("matryoshka");
  train::TrainConfig c = features_config(dir);  // torusN D8: 4 circles
  c.epochs = 2;
  const auto run = [&](const std::string& name, const train::TrainConfig& config) {
    train::RunOptions o;
    o.dir = dir + "/" + name;
    train::train_run(config, o);
    return tensors_of(o.dir + "/last.ckpt");
  };
  const auto plain = run("plain", c);
  train::TrainConfig every = c;
  every.matryoshka = "4";
  CHECK(run("every", every) == plain);  // the same loss, bit for bit
  train::TrainConfig nested = c;
  nested.matryoshka = "1,2,4";
  nested.matryoshka_weights = "1,1,2";
  train::validate(nested);
  const auto m = run("nested", nested);
  CHECK(m != plain);
  std::ifstream csv(dir + "/nested/metrics.csv");
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  CHECK(row.find("nan") == std::string::npos);

  train::TrainConfig sphere = nested;
  sphere.head = "sphere";
  CHECK_THAT(error_of([&] { train::validate(sphere); }), Catch::Contains("loss.matryoshka") && Catch::Contains("sphere"));
  train::TrainConfig too_many = c;
  too_many.matryoshka = "2,8";
  CHECK_THAT(error_of([&] { train::validate(too_many); }), Catch::Contains("loss.matryoshka") && Catch::Contains("\"8\""));
  train::TrainConfig weights = c;
  weights.matryoshka = "1,4";
  weights.matryoshka_weights = "1";
  CHECK_THAT(error_of([&] { train::validate(weights); }), Catch::Contains("loss.matryoshka_weights"));
  train::TrainConfig weights_alone = c;
  weights_alone.matryoshka_weights = "1,2";
  CHECK_THAT(error_of([&] { train::validate(weights_alone); }), Catch::Contains("loss.matryoshka lists none"));
  // A torusN head with one circle plots it on both axes by default (plot.circle_y -1).
  train::TrainConfig one = c;
  one.dim = 2;
  CHECK_NOTHROW(train::validate(one));
  CHECK(train::plot_circle_y(one) == 0);
  CHECK(train::plot_circle_y(c) == 1);
  one.circle_y = 1;
  CHECK_THAT(error_of([&] { train::validate(one); }), Catch::Contains("plot.circle_y"));
  fs::remove_all(dir);
}
