// A code index searched after save and load answers exactly what torus-quant-eval's table scores
// (train/eval/quant_table.cpp): each kind's oracle below repeats the table's calls, spaces taken
// through eval::quantisation_space and evaluated_space_of_quantised as the table takes them, and
// ids and scores must agree bit for bit. Then add: equal to a build on the concatenation for the
// untrained kinds, and to the kernel on the concatenated codes of the build's quantiser for all.
#include <catch2/catch.hpp>

#include "geometry/clifford_torus.hpp"
#include "geometry/code_index.hpp"
#include "geometry/code_search.hpp"
#include "geometry/one_bit_codes.hpp"
#include "nn/io/code_index_file.hpp"
#include "train/eval/evaluated_space.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <unistd.h>

using namespace torus;
using geometry::CodeIndex;
using geometry::CodeKind;
using geometry::CodeMatrix;
using geometry::TorusHead;
using Mat = geometry::RowMatrix<float>;

namespace {
constexpr int kK = 5, kThreads = 2;

// torusN: N rows of K unit (cos, sin) pairs; torusC: raw h drifting over several periods.
Mat head_outputs(TorusHead head, Eigen::Index N, Eigen::Index D, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  Mat z(N, D);
  for (Eigen::Index n = 0; n < N; ++n)
    for (Eigen::Index d = 0; d < D; ++d) z(n, d) = u(rng);
  if (head == TorusHead::torusN)
    for (Eigen::Index n = 0; n < N; ++n)
      for (Eigen::Index k = 0; k < D / 2; ++k) z.row(n).segment(2 * k, 2).normalize();
  return z;
}

nn::HeadMode mode_of(TorusHead head) { return head == TorusHead::torusN ? nn::HeadMode::torusN : nn::HeadMode::torusC; }

CodeMatrix torus_codes(TorusHead head, const Mat& z) {
  return head == TorusHead::torusN ? geometry::torusN_codes<float>(z) : geometry::torusC_codes<float>(z);
}

template <typename S>
geometry::CodeSearchResult as_result(const geometry::KnnResult<S>& knn) {
  return {knn.indices, knn.scores.template cast<double>(), true};
}

// The table's search of queries Q against references R for one kind.
geometry::CodeSearchResult quant_eval_search(CodeKind kind, TorusHead head, const Mat& Q, const Mat& R) {
  const nn::HeadMode mode = mode_of(head);
  geometry::KMeansOptions km;
  km.threads = kThreads;
  const geometry::CosineLut lut(127);
  switch (kind) {
    case CodeKind::u8: return as_result(geometry::knn_cosine_lut(torus_codes(head, Q), torus_codes(head, R), lut, kK, kThreads));
    case CodeKind::u8_dot: return as_result(geometry::knn_cosine_dot(torus_codes(head, Q), torus_codes(head, R), lut, kK, kThreads));
    case CodeKind::pq8_2: {
      const Mat er8 = geometry::eight_bit_space(torus_codes(head, R)), eq8 = geometry::eight_bit_space(torus_codes(head, Q));
      const auto pq = geometry::ProductQuantizer::train(er8, 2, 8, km);
      return as_result(geometry::knn_pq(pq, eq8, pq.encode(er8, kThreads), kK, kThreads));
    }
    case CodeKind::cpq8_2: {
      const Mat ur = eval::quantisation_space(R, mode), uq = eval::quantisation_space(Q, mode);
      const auto cpq = geometry::CircularProductQuantizer::train(ur, 2, 8, km);
      return as_result(geometry::knn_circular_pq(cpq, uq, cpq.encode(ur, kThreads), kK, kThreads));
    }
    case CodeKind::one_bit: {
      const auto space = [&](const Mat& z) -> Mat {
        return head == TorusHead::torusN ? geometry::torusN_one_bit_space<float>(z) : geometry::torusC_one_bit_space<float>(z);
      };
      const Mat sq = space(Q), sr = space(R);
      const auto grid1 = geometry::GridQuantizer::fit<float>(sr, 1);
      return as_result(geometry::knn_hamming(geometry::one_bit_codes<float>(grid1, sq), geometry::one_bit_codes<float>(grid1, sr),
                                             kK, kThreads));
    }
    case CodeKind::float32:
      return as_result(geometry::knn_inner_product(eval::evaluated_space_of_quantised(eval::quantisation_space(Q, mode), mode),
                                                   eval::evaluated_space_of_quantised(eval::quantisation_space(R, mode), mode),
                                                   kK, kThreads));
  }
  FAIL("unknown kind");
  return {};
}

void require_equal(const geometry::CodeSearchResult& a, const geometry::CodeSearchResult& b) {
  REQUIRE(a.ids.rows() == b.ids.rows());
  REQUIRE(a.ids.cols() == b.ids.cols());
  CHECK(a.ids == b.ids);
  CHECK(a.scores == b.scores);  // exact: both are the kernel's int32 or float score in double
}

std::string scratch_file(const std::string& name) {
  const auto dir = std::filesystem::current_path() / ("code_index_scratch-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

const CodeKind kKinds[] = {CodeKind::u8, CodeKind::u8_dot, CodeKind::pq8_2, CodeKind::cpq8_2, CodeKind::one_bit, CodeKind::float32};
}  // namespace

TEST_CASE("a loaded code index searches exactly as torus-quant-eval does, every kind and torus head", "[code_index]") {
  for (const TorusHead head : {TorusHead::torusN, TorusHead::torusC}) {
    const Eigen::Index D = head == TorusHead::torusN ? 8 : 6;
    const Mat R = head_outputs(head, 300, D, 11), Q = head_outputs(head, 37, D, 12);
    for (const CodeKind kind : kKinds) {
      INFO(geometry::code_kind_name(kind) << " " << geometry::torus_head_name(head));
      const std::string path = scratch_file(std::string(geometry::code_kind_name(kind)) + ".tidx");
      nn::io::save_code_index(CodeIndex::build(kind, head, R, kThreads), path);
      const CodeIndex loaded = nn::io::load_code_index(path);
      CHECK(loaded.is_mapped());
      CHECK(loaded.size() == 300);
      const geometry::CodeSearchResult ours = loaded.search(Q, kK, kThreads);
      geometry::CodeSearchResult theirs = quant_eval_search(kind, head, Q, R);
      theirs.larger_is_nearer = ours.larger_is_nearer;
      require_equal(ours, theirs);
      // Not vacuous: the nearest neighbours are not all the same vector.
      CHECK((ours.ids.col(0).array() != ours.ids(0, 0)).any());
      std::filesystem::remove(path);
    }
  }
  std::filesystem::remove_all(std::filesystem::path(scratch_file("x")).parent_path());
}

TEST_CASE("save then load is bit-identical and saves the same bytes again", "[code_index]") {
  const Mat R = head_outputs(TorusHead::torusN, 280, 8, 21);
  for (const CodeKind kind : kKinds) {
    INFO(geometry::code_kind_name(kind));
    const CodeIndex built = CodeIndex::build(kind, TorusHead::torusN, R, kThreads);
    const std::string a = scratch_file("a.tidx"), b = scratch_file("b.tidx");
    nn::io::save_code_index(built, a);
    const CodeIndex loaded = nn::io::load_code_index(a);
    REQUIRE(loaded.kind() == kind);
    REQUIRE(loaded.size() == built.size());
    REQUIRE(loaded.row_bytes() == built.row_bytes());
    CHECK(std::memcmp(loaded.codes(), built.codes(), std::size_t(built.size() * built.row_bytes())) == 0);
    CHECK(std::memcmp(loaded.ids(), built.ids(), std::size_t(built.size()) * 8) == 0);
    CHECK(loaded.ids()[279] == 279);
    nn::io::save_code_index(loaded, b);
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    const std::string ba{std::istreambuf_iterator<char>(fa), {}}, bb{std::istreambuf_iterator<char>(fb), {}};
    CHECK(ba == bb);
    nn::io::verify_code_index_file(a);
  }
  std::filesystem::remove_all(std::filesystem::path(scratch_file("x")).parent_path());
}

TEST_CASE("an index without the quantiser its kind searches with is refused", "[code_index]") {
  const geometry::CodeQuantizer none;
  CHECK_THROWS_WITH(CodeIndex(CodeKind::pq8_2, TorusHead::torusC, 6, none, {}), Catch::Contains("2 sub-quantisers of 8 bits"));
  CHECK_THROWS_WITH(CodeIndex(CodeKind::one_bit, TorusHead::torusN, 8, none, {}), Catch::Contains("1-bit grid of D dimensions"));
  CHECK_THROWS_WITH(CodeIndex(CodeKind::u8, TorusHead::torusN, 7, none, {}), Catch::Contains("even for torusN"));
  // A quantiser of the wrong width is as bad as none.
  const Mat R = head_outputs(TorusHead::torusC, 260, 4, 41);
  const geometry::CodeQuantizer four = CodeIndex::build(CodeKind::cpq8_2, TorusHead::torusC, R).quantizer();
  CHECK_THROWS_AS(CodeIndex(CodeKind::cpq8_2, TorusHead::torusC, 6, four, {}), std::invalid_argument);
  CHECK_NOTHROW(CodeIndex(CodeKind::cpq8_2, TorusHead::torusC, 4, four, {}));
}

TEST_CASE("add continues the ids and searches as one index over the concatenation", "[code_index]") {
  const TorusHead head = TorusHead::torusC;
  const Mat A = head_outputs(head, 260, 6, 31), B = head_outputs(head, 90, 6, 32), Q = head_outputs(head, 25, 6, 33);
  Mat AB(350, 6);
  AB << A, B;
  for (const CodeKind kind : kKinds) {
    INFO(geometry::code_kind_name(kind));
    // Added to the mapped file's index, which add copies out of the mapping first.
    const std::string path = scratch_file("add.tidx");
    nn::io::save_code_index(CodeIndex::build(kind, head, A, kThreads), path);
    CodeIndex grown = nn::io::load_code_index(path);
    grown.add(B);
    CHECK_FALSE(grown.is_mapped());
    REQUIRE(grown.size() == 350);
    CHECK(grown.ids()[260] == 260);
    CHECK(grown.ids()[349] == 349);
    // The same quantiser encoding the concatenation in one go.
    CodeIndex rebuilt(kind, head, 6, CodeIndex::build(kind, head, A, kThreads).quantizer(), {});
    rebuilt.add(AB);
    CHECK(std::memcmp(grown.codes(), rebuilt.codes(), std::size_t(350 * grown.row_bytes())) == 0);
    require_equal(grown.search(Q, kK, kThreads), rebuilt.search(Q, kK, kThreads));
    if (kind == CodeKind::u8 || kind == CodeKind::u8_dot || kind == CodeKind::float32)  // nothing fitted: a plain build
      require_equal(grown.search(Q, kK, kThreads), CodeIndex::build(kind, head, AB, kThreads).search(Q, kK, kThreads));
  }
  std::filesystem::remove_all(std::filesystem::path(scratch_file("x")).parent_path());
}
