// torus-index: a persistent code index (geometry/code_index.hpp, file format in
// nn/io/code_index_file.hpp) built once from torus-embed's folder and searched many times.
//   torus-index build  --embeddings DIR --kind K --out FILE [--threads 2]
//   torus-index add    --index FILE --embeddings DIR [--out FILE]
//   torus-index search --index FILE --queries Q.npy --k K --out PREFIX [--threads 2]
//   torus-index info   --index FILE [--verify]
//   mpirun -np R torus-index search ...: each rank searches its part of the index (the file on a
//   filesystem every rank sees; each maps it and reads only its part) and the per-rank top-k lists
//   are merged exactly: the same ids and scores as one process.
// build and add index DIR's train split (train_embeddings.npy; the head from meta.json). search
// writes PREFIX_ids.npy (int64, (N_q, k)) and PREFIX_scores.npy (float64, (N_q, k)), nearest
// first; a trailing ".npy" on PREFIX is dropped. Exit status: 0 ok, 1 bad data or files, 2 bad
// command line (including k larger than the index).
#include "datasets/batch_part.hpp"
#include "datasets/npy.hpp"
#include "geometry/code_index.hpp"
#include "nn/dist/sharded_top_k.hpp"
#include "nn/head_mode.hpp"
#include "nn/io/code_index_file.hpp"
#include "train/eval/labelled_embeddings.hpp"

#include "train/command_line.hpp"
#include "train/ranks.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

using namespace torus;

namespace {
using geometry::CodeIndex;
using Mat = geometry::RowMatrix<float>;

// A .npy matrix, or a split torus-embed wrote in shards.
Mat read_matrix(const std::string& path) {
  datasets::FloatMatrix m = eval::read_embedding_matrix(path);
  return Eigen::Map<const Mat>(m.values.data(), m.rows, m.cols);
}

// DIR's train split and its head, which must be a torus head.
std::pair<Mat, geometry::TorusHead> train_split(const std::string& dir) {
  const std::string head = eval::embedding_folder_head(dir);
  const nn::HeadMode mode = nn::parse_head_mode(head);
  if (mode != nn::HeadMode::torusN && mode != nn::HeadMode::torusC)
    throw datasets::DataError(dir + "/meta.json: head \"" + head + "\" has no torus codes, expected torusN or torusC");
  return {read_matrix(eval::embedding_folder_files(dir).references),
          mode == nn::HeadMode::torusN ? geometry::TorusHead::torusN : geometry::TorusHead::torusC};
}

// `checksum`: whether to say what was checked on opening (info), not after writing (build, add).
void print_info(const std::string& path, const CodeIndex& index, bool checksum, bool verified) {
  std::printf("%s: %s code index of %lld vectors, %s D%lld, %lld bytes per vector\n", path.c_str(),
              geometry::code_kind_name(index.kind()), static_cast<long long>(index.size()),
              geometry::torus_head_name(index.head()), static_cast<long long>(index.dim()),
              static_cast<long long>(index.row_bytes()));
  if (checksum) std::printf("checksum: %s\n", verified ? "CRC-32 verified (every byte read)"
                                         : "not checked (opening maps the file and checks its header and sizes; --verify reads it all)");
}
// OUT_ids.npy and OUT_scores.npy, and the line saying so.
void write_search(const std::string& out, const geometry::CodeSearchResult& r, int64_t queries, int k) {
  const std::string prefix = out.size() > 4 && out.ends_with(".npy") ? out.substr(0, out.size() - 4) : out;
  datasets::write_npy(prefix + "_ids.npy", r.ids.data(), r.ids.rows(), r.ids.cols());
  datasets::write_npy(prefix + "_scores.npy", r.scores.data(), r.scores.rows(), r.scores.cols());
  std::printf("%lld queries, %d neighbours each (%s is nearer): %s_ids.npy, %s_scores.npy\n", static_cast<long long>(queries),
              k, r.larger_is_nearer ? "larger score" : "smaller score", prefix.c_str(), prefix.c_str());
}

// The k nearest stored vectors of each query, searched by every rank over its part of the index.
geometry::CodeSearchResult sharded_search(const dist::Communicator& world, const CodeIndex& index, const Mat& q, int k,
                                          int threads) {
  if (world.size() == 1) return index.search(q, k, threads);
  // Parts of whole blocks of kPartRows (the last one short), so every score is bit for bit the
  // single-process one; with fewer blocks than ranks some ranks search nothing.
  const datasets::BatchPart mine = datasets::block_part(index.size(), CodeIndex::kPartRows, world.rank(), world.size());
  dist::TopK part{geometry::RowMatrix<int64_t>(q.rows(), 0), geometry::RowMatrix<double>(q.rows(), 0)};
  if (mine.count > 0) {
    geometry::CodeSearchResult r = index.part(mine.first, mine.count).search(q, int(std::min<int64_t>(k, mine.count)), threads);
    part = {std::move(r.ids), std::move(r.scores)};
  }
  const dist::TopK merged = dist::merge_sharded_top_k(world, part, k, index.larger_is_nearer());
  return {merged.ids, merged.scores, index.larger_is_nearer()};
}
}  // namespace

int main(int argc, char** argv) {
  const std::unique_ptr<dist::Session> session = train::start_session("torus-index", argc, argv);
  if (!session) return 1;
  const dist::Communicator& world = session->world();
  const bool rank0 = world.rank() == 0;
  CLI::App app{"A persistent index of torus codes: build once from torus-embed's folder, search many times."};
  app.require_subcommand(1);
  std::string dir, kind_name, index_path, out, queries;
  int threads = 2, k = 10;
  bool verify = false;
  CLI::App* build = app.add_subcommand("build", "index DIR's train split");
  build->add_option("--embeddings", dir, "torus-embed's output folder")->required()->check(CLI::ExistingDirectory);
  build->add_option("--kind", kind_name, "code kind")->required()->check(CLI::IsMember(geometry::code_kind_names()));
  build->add_option("--out", out, "index file to write")->required();
  build->add_option("--threads", threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  CLI::App* add = app.add_subcommand("add", "append DIR's train split, ids continuing");
  add->add_option("--index", index_path, "index file")->required();
  add->add_option("--embeddings", dir, "torus-embed's output folder")->required()->check(CLI::ExistingDirectory);
  add->add_option("--out", out, "write here instead of replacing --index");
  CLI::App* search = app.add_subcommand("search", "top-k neighbours of each query");
  search->add_option("--index", index_path, "index file")->required();
  search->add_option("--queries", queries, "float32 .npy (N_q, D) of raw head outputs")->required();
  search->add_option("--k", k, "neighbours per query")->check(CLI::PositiveNumber)->capture_default_str();
  search->add_option("--out", out, "writes OUT_ids.npy and OUT_scores.npy")->required();
  search->add_option("--threads", threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  CLI::App* info = app.add_subcommand("info", "kind, size and shape; --verify also checks the CRC-32");
  info->add_option("--index", index_path, "index file")->required();
  info->add_flag("--verify", verify, "read the whole file and check its CRC-32");
  if (const int status = train::parse_on_every_rank(app, argc, argv, world); status >= 0) return status;
  if (world.size() > 1 && !search->parsed()) {
    if (rank0) std::fprintf(stderr, "torus-index: only search runs on several ranks (mpirun -np 1, or no mpirun, for the others)\n");
    return 2;
  }
  if (world.size() > 1)
    return dist::run_or_abort(world, [&] {
      const CodeIndex index = nn::io::load_code_index(index_path);
      if (k > index.size()) throw datasets::DataError("--k " + std::to_string(k) + " exceeds the " + std::to_string(index.size()) +
                                                      " vectors of " + index_path);
      const Mat q = read_matrix(queries);
      if (q.cols() != index.dim())
        throw datasets::DataError(queries + ": " + std::to_string(q.cols()) + " columns, the index " + index_path +
                                  " holds D = " + std::to_string(index.dim()));
      const geometry::CodeSearchResult r = sharded_search(world, index, q, k, threads);
      if (rank0) write_search(out, r, q.rows(), k);
      return 0;
    });
  try {
    if (build->parsed()) {
      const auto [z, head] = train_split(dir);
      const CodeIndex index = CodeIndex::build(geometry::parse_code_kind(kind_name), head, z, threads);
      nn::io::save_code_index(index, out);
      print_info(out, index, false, false);
    } else if (add->parsed()) {
      CodeIndex index = nn::io::load_code_index(index_path);
      const auto [z, head] = train_split(dir);
      if (head != index.head())
        throw datasets::DataError(dir + "/meta.json: head " + geometry::torus_head_name(head) + ", the index " + index_path +
                                  " holds " + geometry::torus_head_name(index.head()));
      index.add(z);
      nn::io::save_code_index(index, out.empty() ? index_path : out);
      print_info(out.empty() ? index_path : out, index, false, false);
    } else if (search->parsed()) {
      const CodeIndex index = nn::io::load_code_index(index_path);
      if (k > index.size()) {
        std::fprintf(stderr, "torus-index: --k %d exceeds the %lld vectors of %s\n", k, static_cast<long long>(index.size()),
                     index_path.c_str());
        return 2;
      }
      const Mat q = read_matrix(queries);
      if (q.cols() != index.dim())
        throw datasets::DataError(queries + ": " + std::to_string(q.cols()) + " columns, the index " + index_path +
                                  " holds D = " + std::to_string(index.dim()));
      write_search(out, index.search(q, k, threads), q.rows(), k);
    } else {
      if (verify) nn::io::verify_code_index_file(index_path);
      print_info(index_path, nn::io::load_code_index(index_path), true, verify);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-index: %s\n", e.what());
    return 1;
  }
}
