// torus-eval: query and reference embeddings -> the evaluation measures of method.md 8:
// precision@1 by exact nearest neighbour (inner product in the evaluated space: Clifford vectors
// for the torus heads), few-shot n-way k-shot accuracy by nearest class prototype (on the
// queries), circular variance, entropy and the number of distinct rows (over queries and
// references together, as the reference code computes them over all 60 000 vectors).
//   torus-eval --embeddings DIR                       (torus-embed's folder: test = queries, train = references)
//   torus-eval --queries Q.npy --query-labels QL --references R.npy --reference-labels RL --head torusN
// Prints a table; --csv and --json write the same numbers.
// Under mpirun (or srun) the nearest-neighbour searches are spread over the ranks, each searching
// its part of the references; rank 0 prints the same numbers one process would.
#include "autodiff/parallel.hpp"
#include "nn/dist/communicator.hpp"
#include "nn/io/atomic_file.hpp"
#include "nn/matryoshka.hpp"
#include "train/eval/head_modes.hpp"
#include "train/eval/labelled_embeddings.hpp"
#include "train/eval/measures.hpp"

#include "train/command_line.hpp"
#include "train/ranks.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

using namespace torus;

namespace {
std::string few_shot_key(int ways, int shots) { return std::to_string(ways) + "-way " + std::to_string(shots) + "-shot"; }

void print_measures(const std::string& head, const eval::Measures& m) {
  std::printf("%-28s %s\n", "head", head.c_str());
  std::printf("%-28s %lld queries, %lld references, D %lld\n", "data", static_cast<long long>(m.queries),
              static_cast<long long>(m.references), static_cast<long long>(m.dim));
  if (m.has_precision) std::printf("%-28s %.4f\n", "precision@1", m.precision_at_1);
  else std::printf("%-28s not measured (no test split)\n", "precision@1");
  std::printf("%-28s %s, %lld rows\n", "few-shot episodes from", m.few_shot_set.c_str(), static_cast<long long>(m.few_shot_rows));
  const auto print_few_shot = [&](const std::vector<eval::FewShotMeasure>& measures, const char* suffix) {
    for (const eval::FewShotMeasure& f : measures) {
      const std::string key = few_shot_key(m.ways, f.shots) + suffix;
      if (f.measured)
        std::printf("%-28s %.4f +- %.4f (std %.4f, %d episodes)\n", key.c_str(), f.result.mean, f.result.ci95,
                    f.result.std_dev, f.result.episodes);
      else
        std::printf("%-28s skipped: %s\n", key.c_str(), f.skipped.c_str());
    }
  };
  print_few_shot(m.few_shot, "");
  print_few_shot(m.few_shot_codes, " u8 codes");
  for (const eval::PrefixPrecision& p : m.prefixes) {
    const std::string key = "precision@1 first " + std::to_string(p.circles) + (p.circles == 1 ? " circle" : " circles");
    std::printf("%-28s %.4f (u8 codes, %lld bytes per item: %.4f)\n", key.c_str(), p.float_precision_at_1,
                static_cast<long long>(p.circles), p.code_precision_at_1);
    if (p.two_stage)
      std::printf("%-28s %.4f, recall@1 %.4f of the full-code search; %.0f queries/s (full codes %.0f)\n",
                  ("  then all, shortlist " + std::to_string(p.shortlist)).c_str(), p.two_stage_precision_at_1,
                  p.two_stage_recall_at_1, p.two_stage_queries_per_s, p.full_code_queries_per_s);
  }
  std::printf("%-28s %.4f\n", "circular variance", m.circular_variance);
  std::printf("%-28s %.4f (max ln N = %.4f)\n", "entropy (nats)", m.entropy_nats, m.max_entropy_nats);
  std::printf("%-28s %lld of %lld\n", "distinct rows", static_cast<long long>(m.distinct_rows),
              static_cast<long long>(m.rows));
}

nlohmann::json measures_json(const std::string& head, const eval::Measures& m) {
  nlohmann::json out = {{"head", head}, {"queries", m.queries}, {"references", m.references}, {"dim", m.dim},
                        {"precision_at_1", m.has_precision ? nlohmann::json(m.precision_at_1) : nlohmann::json(nullptr)},
                        {"search_seconds", m.search_seconds}, {"few_shot_set", m.few_shot_set}, {"few_shot_rows", m.few_shot_rows},
                        {"circular_variance", m.circular_variance}, {"entropy_nats", m.entropy_nats},
                        {"max_entropy_nats", m.max_entropy_nats}, {"distinct_rows", m.distinct_rows}};
  for (const eval::PrefixPrecision& p : m.prefixes) {
    nlohmann::json entry = {{"circles", p.circles}, {"bytes_per_item", p.circles}, {"precision_at_1", p.float_precision_at_1},
                            {"code_precision_at_1", p.code_precision_at_1}};
    if (p.two_stage)
      entry["two_stage"] = {{"shortlist", p.shortlist}, {"precision_at_1", p.two_stage_precision_at_1},
                            {"recall_at_1", p.two_stage_recall_at_1}, {"queries_per_s", p.two_stage_queries_per_s},
                            {"full_code_queries_per_s", p.full_code_queries_per_s}};
    out["prefixes"].push_back(entry);
  }
  for (const auto* measures : {&m.few_shot, &m.few_shot_codes})
    for (const eval::FewShotMeasure& f : *measures)
      if (f.measured)
        out[measures == &m.few_shot ? "few_shot" : "few_shot_u8_codes"][few_shot_key(m.ways, f.shots)] = {
            {"mean", f.result.mean}, {"std", f.result.std_dev}, {"ci95", f.result.ci95}, {"episodes", f.result.episodes}};
  return out;
}

// One header line and one row; a skipped few-shot measure is NaN.
std::string measures_csv(const std::string& head, const eval::Measures& m) {
  std::string header = "head,queries,references,dim,precision_at_1", row;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s,%lld,%lld,%lld,%.6f", head.c_str(), static_cast<long long>(m.queries),
                static_cast<long long>(m.references), static_cast<long long>(m.dim), m.has_precision ? m.precision_at_1 : NAN);
  row = buf;
  for (const auto* measures : {&m.few_shot, &m.few_shot_codes})
    for (const eval::FewShotMeasure& f : *measures) {
      const std::string stem = "fewshot_" + std::to_string(m.ways) + "w" + std::to_string(f.shots) + "s" +
                               (measures == &m.few_shot_codes ? "_u8" : "");
      header += "," + stem + "_mean," + stem + "_std";
      std::snprintf(buf, sizeof buf, ",%.6f,%.6f", f.measured ? f.result.mean : NAN, f.measured ? f.result.std_dev : NAN);
      row += buf;
    }
  for (const eval::PrefixPrecision& p : m.prefixes) {
    const std::string stem = "prefix" + std::to_string(p.circles);
    header += "," + stem + "_precision_at_1," + stem + "_code_precision_at_1";
    std::snprintf(buf, sizeof buf, ",%.6f,%.6f", p.float_precision_at_1, p.code_precision_at_1);
    row += buf;
    if (p.two_stage) {
      header += "," + stem + "_two_stage_precision_at_1," + stem + "_two_stage_recall_at_1";
      std::snprintf(buf, sizeof buf, ",%.6f,%.6f", p.two_stage_precision_at_1, p.two_stage_recall_at_1);
      row += buf;
    }
  }
  header += ",circular_variance,entropy_nats,distinct_rows\n";
  std::snprintf(buf, sizeof buf, ",%.6f,%.6f,%lld\n", m.circular_variance, m.entropy_nats,
                static_cast<long long>(m.distinct_rows));
  return header + row + buf;
}
}  // namespace

int main(int argc, char** argv) {
  const std::unique_ptr<dist::Session> session = train::start_session("torus-eval", argc, argv);
  if (!session) return 1;
  const dist::Communicator& world = session->world();
  CLI::App app{"Evaluates embeddings: precision@1, few-shot accuracy, circular variance, entropy, distinct rows."};
  std::string dir, head, csv_path, json_path;
  eval::EvaluationFiles files;
  eval::MeasureOptions options;
  options.threads = 2;
  app.add_option("--embeddings", dir, "torus-embed's output folder (reads meta.json)")->check(CLI::ExistingDirectory);
  app.add_option("--queries", files.queries, "query embeddings .npy (N, D)")->excludes("--embeddings");
  app.add_option("--query-labels", files.query_labels, "query labels (.npy or .csv)");
  app.add_option("--references", files.references, "reference embeddings .npy");
  app.add_option("--reference-labels", files.reference_labels, "reference labels (.npy or .csv)");
  app.add_option("--few-shot", files.few_shot, "few-shot episodes from these embeddings .npy instead of the queries")
      ->excludes("--embeddings");
  app.add_option("--few-shot-labels", files.few_shot_labels, "their labels (.npy or .csv)");
  app.add_option("--head", head, "geometry of the embeddings")->check(CLI::IsMember(eval::head_mode_names()));
  app.add_option("--ways", options.ways, "few-shot: classes per episode (default 5, or every class when there are fewer)")
      ->check(CLI::Range(2, 100000));
  app.add_option("--episodes", options.episodes, "few-shot: episodes")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--few-shot-queries", options.queries_per_class, "few-shot: queries per class")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  std::string protocol = "images";
  app.add_option("--protocol", protocol,
                 "few-shot protocol: images (k support and --few-shot-queries queries per class) or bioacoustic "
                 "(method.md 13: L2-normalise, subtract the support mean, every other sample of a class is a query)")
      ->check(CLI::IsMember({"images", "bioacoustic"}))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "few-shot episode seed")->capture_default_str();
  std::string prefixes_text;
  app.add_option("--prefixes", prefixes_text,
                 "torus heads: also precision@1 of the first k circles for each k, \"1,2,4\" (Matryoshka codes cut after k bytes)");
  app.add_option("--shortlist", options.shortlist,
                 "with --prefixes: also search in two stages, this many candidates by each shorter prefix's codes re-ranked "
                 "by the full codes (0: not)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--csv", csv_path, "also write the results as CSV");
  app.add_option("--json", json_path, "also write the results as JSON");
  if (const int status = train::parse_on_every_rank(app, argc, argv, world); status >= 0) return status;
  options.world = &world;
  if (!prefixes_text.empty()) {
    try {
      for (const nn::CircleLevel& l : nn::parse_circle_levels(prefixes_text, "", int64_t(1) << 30)) options.prefixes.push_back(l.circles);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "torus-eval: --prefixes: %s\n", e.what());
      return 2;
    }
  }
  if (protocol == "bioacoustic") {
    options.centre_on_support = true;
    options.queries_per_class = 0;
  }
  const auto evaluate = [&]() -> int {
    set_num_threads(options.threads);
    if (!dir.empty()) {
      const std::string meta_head = eval::embedding_folder_head(dir);
      if (head.empty()) head = meta_head;
      files = eval::embedding_folder_files(dir);
    } else if (files.queries.empty() || files.query_labels.empty() || files.references.empty() ||
               files.reference_labels.empty() || head.empty() || files.few_shot.empty() != files.few_shot_labels.empty()) {
      if (world.rank() == 0)
        std::fprintf(stderr, "torus-eval: give --embeddings DIR, or all of --queries --query-labels --references "
                             "--reference-labels --head (and --few-shot with --few-shot-labels)\n");
      return 2;
    }
    const nn::HeadMode mode = nn::parse_head_mode(head);
    const eval::Measures m = eval::measure_embeddings(eval::load_evaluation_set(files, mode), mode, options);
    if (world.rank() != 0) return 0;
    print_measures(head, m);
    if (!json_path.empty()) nn::io::write_file_atomic(json_path, measures_json(head, m).dump(2) + "\n");
    if (!csv_path.empty()) nn::io::write_file_atomic(csv_path, measures_csv(head, m));
    return 0;
  };
  // A failure only some ranks meet (a file they cannot read) ends them all with its message.
  if (world.size() > 1) return dist::run_or_abort(world, evaluate);
  try {
    return evaluate();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-eval: %s\n", e.what());
    return 1;
  }
}
