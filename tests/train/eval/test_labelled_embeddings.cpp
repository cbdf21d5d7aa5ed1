// The one reader of embeddings and labels behind torus-eval and torus-quant-eval: .npy and CSV
// labels give the same set, torus-embed's folder is read as test queries against train references,
// and bad files are refused naming the file.
#include <catch2/catch.hpp>

#include "datasets/image_file.hpp"
#include "datasets/npy.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/eval/labelled_embeddings.hpp"

#include <filesystem>

using namespace torus;
namespace fs = std::filesystem;

namespace {
std::string fresh_dir(const std::string& name) {
  const std::string dir = (fs::temp_directory_path() / ("torus_test_eval_" + name)).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

eval::RowMatrix ramp(int rows, int cols, float offset) {
  eval::RowMatrix x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = offset + 0.25f * float(i);
  return x;
}
}  // namespace

TEST_CASE("embeddings with .npy or CSV labels load the same", "[eval][single-path]") {
  const std::string dir = fresh_dir("labels");
  const eval::RowMatrix x = ramp(4, 3, 0.5f);
  datasets::write_npy(dir + "/x.npy", x.data(), x.rows(), x.cols());
  datasets::write_npy(dir + "/y.npy", std::vector<int64_t>{2, 0, 1, 2});
  nn::io::write_file_atomic(dir + "/y.csv", "label\n2\n0\n1\n2\n");
  const eval::LabelledEmbeddings a = eval::load_labelled_embeddings(dir + "/x.npy", dir + "/y.npy");
  const eval::LabelledEmbeddings b = eval::load_labelled_embeddings(dir + "/x.npy", dir + "/y.csv");
  CHECK(a.x == x);
  CHECK(b.x == x);
  CHECK(a.labels == std::vector<int>{2, 0, 1, 2});
  CHECK(b.labels == a.labels);

  datasets::write_npy(dir + "/short.npy", std::vector<int64_t>{1, 2, 3});
  CHECK_THROWS_WITH(eval::load_labelled_embeddings(dir + "/x.npy", dir + "/short.npy"),
                    Catch::Contains("short.npy") && Catch::Contains("3 labels for the 4 rows"));
  datasets::write_npy(dir + "/negative.npy", std::vector<int64_t>{1, -1, 0, 0});
  CHECK_THROWS_WITH(eval::load_labelled_embeddings(dir + "/x.npy", dir + "/negative.npy"),
                    Catch::Contains("negative.npy") && Catch::Contains("label -1 is not a class index"));
  fs::remove_all(dir);
}

TEST_CASE("torus-embed's folder: meta.json's head, test queries against train references", "[eval]") {
  const std::string dir = fresh_dir("folder");
  const eval::RowMatrix test = ramp(3, 4, 0.0f), train = ramp(5, 4, 1.0f);
  datasets::write_npy(dir + "/test_embeddings.npy", test.data(), test.rows(), test.cols());
  datasets::write_npy(dir + "/train_embeddings.npy", train.data(), train.rows(), train.cols());
  datasets::write_npy(dir + "/test_labels.npy", std::vector<int64_t>{0, 1, 0});
  datasets::write_npy(dir + "/train_labels.npy", std::vector<int64_t>{1, 1, 0, 0, 1});
  nn::io::write_file_atomic(dir + "/meta.json", R"({"head": "torusC", "splits": {"train": {}, "test": {}}})");
  CHECK(eval::embedding_folder_head(dir) == "torusC");
  const eval::EvaluationSet s = eval::load_evaluation_set(eval::embedding_folder_files(dir), nn::HeadMode::torusC);
  CHECK(s.queries.x == test);
  CHECK(s.references.x == train);
  CHECK(s.references.labels == std::vector<int>{1, 1, 0, 0, 1});

  nn::io::write_file_atomic(dir + "/meta.json", R"({"head": "torusC", "splits": {"train": {}}})");
  CHECK_THROWS_WITH(eval::embedding_folder_head(dir), Catch::Contains("meta.json") && Catch::Contains("\"test\" split"));
  nn::io::write_file_atomic(dir + "/meta.json", R"({"head": "torusC", "splits": {"train": {}, "test": {}}})");
  const eval::RowMatrix odd = ramp(5, 3, 0.0f);
  datasets::write_npy(dir + "/train_embeddings.npy", odd.data(), odd.rows(), odd.cols());
  CHECK_THROWS_WITH(eval::load_evaluation_set(eval::embedding_folder_files(dir), nn::HeadMode::torusC),
                    Catch::Contains("test_embeddings.npy has 4 columns") && Catch::Contains("train_embeddings.npy 3"));
  fs::remove_all(dir);
}

TEST_CASE("a file evaluated as what it does not hold is refused, by meta.json and by its numbers", "[eval]") {
  const std::string dir = fresh_dir("representation");
  eval::RowMatrix pairs(2, 4), angles(2, 2);
  pairs << 1, 0, 0.6f, 0.8f, 0, -1, -0.8f, 0.6f;
  angles << 0.0f, 0.1f, 0.75f, 0.9f;
  CHECK_NOTHROW(eval::check_representation(dir + "/p.npy", pairs, nn::HeadMode::torusN));
  // The defect: torus-eval --head torusN on *_angles.npy reported precision@1 0.10.
  CHECK_THROWS_WITH(eval::check_representation(dir + "/test_angles.npy", angles, nn::HeadMode::torusN),
                    Catch::Contains("test_angles.npy: row 0, pair 0 has norm 0.1") && Catch::Contains("--head torusC"));
  CHECK_NOTHROW(eval::check_representation(dir + "/test_angles.npy", angles, nn::HeadMode::torusC));
  eval::RowMatrix sphere(1, 3);
  sphere << 0.6f, 0.8f, 0.0f;
  CHECK_NOTHROW(eval::check_representation(dir + "/s.npy", sphere, nn::HeadMode::sphere));
  sphere(0, 2) = 0.5f;
  CHECK_THROWS_WITH(eval::check_representation(dir + "/s.npy", sphere, nn::HeadMode::sphere),
                    Catch::Contains("s.npy: row 0 has norm 1.118") && Catch::Contains("not unit vectors"));
  // meta.json names what each file holds: unit pairs listed as torusC-only are refused for torusN.
  nn::io::write_file_atomic(dir + "/meta.json", R"({"files": {"test_angles.npy": {"holds": "angles in turns",)"
                                                R"( "evaluate_as": "torusC"}}})");
  CHECK_THROWS_WITH(eval::check_representation(dir + "/test_angles.npy", pairs, nn::HeadMode::torusN),
                    Catch::Contains("meta.json says it holds angles in turns, evaluated as --head torusC, not torusN"));
  CHECK_NOTHROW(eval::check_representation(dir + "/other.npy", pairs, nn::HeadMode::torusN));  // not listed
  fs::remove_all(dir);
}
