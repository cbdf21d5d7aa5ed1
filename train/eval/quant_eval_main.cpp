// torus-quant-eval: the quantisation table of method.md 9 and 12 (train/eval/quant_table.hpp lists
// its rows) for the embeddings in torus-embed's folder, test queries against training references.
//   torus-quant-eval --embeddings DIR [--head H] [--threads 2] [--csv FILE] [--json FILE] [--plot FILE.png]
// Columns: bits per vector, precision@1, circular variance and entropy of queries and references
// together (in the evaluated space of the dequantised vectors), distinct codes, queries/s of the
// search alone. --plot draws bits per vector against precision@1 (and the same as SVG beside it).
// Under mpirun (or srun) every search is spread over the ranks, each searching its part of the
// references; rank 0 prints the table one process would (queries/s then counts all the ranks).
#include "datasets/image_file.hpp"
#include "nn/dist/communicator.hpp"
#include "nn/head_mode.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/eval/head_modes.hpp"
#include "train/eval/labelled_embeddings.hpp"
#include "train/eval/quant_table.hpp"

#include "train/command_line.hpp"
#include "train/ranks.hpp"
#include "train/plot.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <optional>

using namespace torus;

namespace {
std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

// --head, else meta.json's head, which must have a table.
nn::HeadMode resolve_head(const std::string& dir, std::string& head) {
  const std::string meta_head = eval::embedding_folder_head(dir);
  if (head.empty()) {
    head = meta_head;
    if (!eval::has_quantisation_table(nn::parse_head_mode(head)))
      throw datasets::DataError(dir + "/meta.json: head \"" + head + "\" has no quantisation table (" +
                                join(eval::head_mode_names(eval::has_quantisation_table)) + ")");
  }
  return nn::parse_head_mode(head);
}

void print_table(const std::vector<eval::QuantRow>& rows) {
  std::printf("%-9s %6s %12s %10s %10s %9s %12s\n", "mode", "bits", "precision@1", "circvar", "entropy", "distinct",
              "queries/s");
  for (const eval::QuantRow& r : rows)
    std::printf("%-9s %6d %12.4f %10.4f %10.4f %9lld %12.0f\n", r.mode.c_str(), r.bits, r.precision_at_1,
                r.circular_variance, r.entropy_nats, static_cast<long long>(r.distinct), r.queries_per_s);
}

std::string table_csv(const std::vector<eval::QuantRow>& rows) {
  std::string csv = "mode,bits,precision_at_1,circular_variance,entropy_nats,distinct,queries_per_s\n";
  for (const eval::QuantRow& r : rows) {
    char line[256];
    std::snprintf(line, sizeof line, "%s,%d,%.6f,%.6f,%.6f,%lld,%.1f\n", r.mode.c_str(), r.bits, r.precision_at_1,
                  r.circular_variance, r.entropy_nats, static_cast<long long>(r.distinct), r.queries_per_s);
    csv += line;
  }
  return csv;
}

// A product quantiser's rows (pq8_2, pq4_4, ...) are one family, one legend entry "pqB_M" (B bits
// per sub-quantiser, M of them); every other row is its own.
std::string family_of(const std::string& mode) {
  for (const std::string prefix : {"pq", "cpq"})
    if (mode.size() > prefix.size() && mode.compare(0, prefix.size(), prefix) == 0 && std::isdigit(static_cast<unsigned char>(mode[prefix.size()])))
      return prefix + "B_M";
  return mode;
}

// Bits per vector (log2 axis) against precision@1, one (colour, marker) per family.
void write_table_plot(const std::string& png_path, const std::string& head, int64_t D,
                      const std::vector<eval::QuantRow>& rows) {
  std::vector<train::Curve> families;
  for (const eval::QuantRow& r : rows) {
    const std::string family = family_of(r.mode);
    auto it = std::find_if(families.begin(), families.end(), [&](const train::Curve& c) { return c.name == family; });
    if (it == families.end()) it = families.insert(families.end(), train::Curve{family, {}, {}});
    it->x.push_back(r.bits);
    it->y.push_back(r.precision_at_1);
  }
  train::LinePlot plot;
  plot.title = "quantised " + head + " D" + std::to_string(D) + " embeddings: size against precision@1";
  plot.x_label = "bits per vector (log scale)";
  plot.y_label = "precision@1 (test queries)";
  plot.log2_x = true;
  plot.y_floor = 0, plot.y_ceiling = 1;
  plot.joined = false;
  train::write_line_plot(png_path, plot, families);
}

nlohmann::json table_json(const std::vector<eval::QuantRow>& rows) {
  nlohmann::json table = nlohmann::json::array();
  for (const eval::QuantRow& r : rows)
    table.push_back({{"mode", r.mode}, {"bits", r.bits}, {"precision_at_1", r.precision_at_1},
                     {"circular_variance", r.circular_variance}, {"entropy_nats", r.entropy_nats},
                     {"distinct", r.distinct}, {"queries_per_s", r.queries_per_s}});
  return table;
}
}  // namespace

int main(int argc, char** argv) {
  // Under mpirun (or srun) every search of the table is spread over the ranks; rank 0 prints.
  const std::unique_ptr<dist::Session> session = train::start_session("torus-quant-eval", argc, argv);
  if (!session) return 1;
  const dist::Communicator& world = session->world();
  CLI::App app{"Prints the quantisation table (method.md 9 and 12) of torus-embed's embeddings."};
  std::string dir, head, csv_path, json_path, plot_path;
  int threads = 2;
  app.add_option("--embeddings", dir, "torus-embed's output folder")->required()->check(CLI::ExistingDirectory);
  app.add_option("--head", head, "override meta.json's head")->check(CLI::IsMember(eval::head_mode_names(eval::has_quantisation_table)));
  app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--csv", csv_path, "also write the table as CSV");
  app.add_option("--json", json_path, "also write the table as JSON");
  app.add_option("--plot", plot_path, "also plot bits per vector against precision@1 (a .png, with the .svg beside it)")
      ->check([](const std::string& p) {
        return p.size() > 4 && p.compare(p.size() - 4, 4, ".png") == 0 ? std::string() : "must end in .png, got " + p;
      });
  if (const int status = train::parse_on_every_rank(app, argc, argv, world); status >= 0) return status;
  const auto tabulate = [&]() -> int {
    const nn::HeadMode mode = resolve_head(dir, head);
    const eval::EvaluationSet set = eval::load_evaluation_set(eval::embedding_folder_files(dir), mode);
    if (!set.has_queries())
      throw datasets::DataError(dir + "/meta.json: no test split; torus-quant-eval measures test queries against training "
                                "references (embed a run with data.test_path)");
    const std::vector<eval::QuantRow> rows = eval::quantisation_table(set, mode, threads, world.rank() == 0 ? stderr : nullptr, &world);
    if (world.rank() != 0) return 0;
    const int64_t D = set.queries.x.cols(), queries = set.queries.x.rows(), references = set.references.x.rows();
    std::printf("%s D%lld: %lld test queries against %lld training references, %d threads%s\n", head.c_str(),
                static_cast<long long>(D), static_cast<long long>(queries), static_cast<long long>(references), threads,
                world.size() > 1 ? (" x " + std::to_string(world.size()) + " ranks").c_str() : "");
    print_table(rows);
    if (!csv_path.empty()) nn::io::write_file_atomic(csv_path, table_csv(rows));
    if (!plot_path.empty()) write_table_plot(plot_path, head, D, rows);
    if (!json_path.empty())
      nn::io::write_file_atomic(json_path, nlohmann::json{{"head", head}, {"dim", D}, {"queries", queries},
                                                          {"references", references}, {"threads", threads},
                                                          {"rows", table_json(rows)}}
                                                   .dump(2) + "\n");
    return 0;
  };
  // A failure only some ranks meet (a file they cannot read) ends them all with its message.
  if (world.size() > 1) return dist::run_or_abort(world, tabulate);
  try {
    return tabulate();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-quant-eval: %s\n", e.what());
    return 1;
  }
}
