// torus-eval: query and reference embeddings -> the evaluation measures of method.md 8:
// precision@1 by exact nearest neighbour (inner product in the evaluated space: Clifford vectors
// for the torus heads), few-shot n-way k-shot accuracy by nearest class prototype (on the
// queries), circular variance, entropy and the number of distinct rows (over queries and
// references together, as the reference code computes them over all 60 000 vectors).
//   torus-eval --embeddings DIR                       (torus-embed's folder: test = queries, train = references)
//   torus-eval --queries Q.npy --query-labels QL --references R.npy --reference-labels RL --head torusN
// Prints a table; --csv and --json write the same numbers.
#include "autodiff/parallel.hpp"
#include "geometry/circular_stats.hpp"
#include "geometry/code_stats.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/elapsed.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/eval/few_shot.hpp"
#include "train/eval/head_modes.hpp"
#include "train/eval/labelled_embeddings.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>

using namespace torus;

int main(int argc, char** argv) {
  CLI::App app{"Evaluates embeddings: precision@1, few-shot accuracy, circular variance, entropy, distinct rows."};
  std::string dir, queries_path, query_labels, references_path, reference_labels, head, csv_path, json_path;
  int threads = 2, episodes = 600, ways = 0, queries_per_class = 15;
  uint64_t seed = 0;
  app.add_option("--embeddings", dir, "torus-embed's output folder (reads meta.json)")->check(CLI::ExistingDirectory);
  app.add_option("--queries", queries_path, "query embeddings .npy (N, D)")->excludes("--embeddings");
  app.add_option("--query-labels", query_labels, "query labels (.npy or .csv)");
  app.add_option("--references", references_path, "reference embeddings .npy");
  app.add_option("--reference-labels", reference_labels, "reference labels (.npy or .csv)");
  app.add_option("--head", head, "geometry of the embeddings")
      ->check(CLI::IsMember(eval::head_mode_names()));
  app.add_option("--ways", ways, "few-shot: classes per episode (default 5, or every class when there are fewer)")
      ->check(CLI::Range(2, 100000));
  app.add_option("--episodes", episodes, "few-shot: episodes")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--few-shot-queries", queries_per_class, "few-shot: queries per class")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--seed", seed, "few-shot episode seed")->capture_default_str();
  app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--csv", csv_path, "also write the results as CSV");
  app.add_option("--json", json_path, "also write the results as JSON");
  CLI11_PARSE(app, argc, argv);
  try {
    set_num_threads(threads);
    eval::EvaluationFiles files{queries_path, query_labels, references_path, reference_labels};
    if (!dir.empty()) {
      const std::string meta_head = eval::embedding_folder_head(dir);
      if (head.empty()) head = meta_head;
      files = eval::embedding_folder_files(dir);
    } else if (queries_path.empty() || query_labels.empty() || references_path.empty() || reference_labels.empty() ||
               head.empty()) {
      std::fprintf(stderr, "torus-eval: give --embeddings DIR, or all of --queries --query-labels --references "
                           "--reference-labels --head\n");
      return 2;
    }
    const nn::HeadMode mode = nn::parse_head_mode(head);
    const eval::EvaluationSet set = eval::load_evaluation_set(files, mode);
    const eval::LabelledEmbeddings &q = set.queries, &r = set.references;
    if (ways == 0) ways = std::min<int>(5, int(std::set<int>(q.labels.begin(), q.labels.end()).size()));
    ways = std::max(ways, 2);
    const auto t0 = std::chrono::steady_clock::now();
    const eval::RowMatrix eq = eval::evaluated_space(q.x, mode), er = eval::evaluated_space(r.x, mode);
    const double p1 = eval::precision_at_1(eq, q.labels, er, r.labels, threads);
    const double search_s = train::seconds_since(t0);
    eval::RowMatrix all(eq.rows() + er.rows(), eq.cols());
    all << eq, er;
    const double circvar = geometry::circular_variance_rows<float>(all);
    const auto counts = geometry::distinct_row_counts<float>(all);
    const double entropy = geometry::shannon_entropy_nats(counts, all.rows(), 0);
    nlohmann::json out = {{"head", head}, {"queries", q.x.rows()}, {"references", r.x.rows()}, {"dim", q.x.cols()},
                          {"precision_at_1", p1}, {"search_seconds", search_s}, {"circular_variance", circvar},
                          {"entropy_nats", entropy}, {"max_entropy_nats", std::log(double(all.rows()))},
                          {"distinct_rows", int64_t(counts.size())}};
    std::printf("%-28s %s\n", "head", head.c_str());
    std::printf("%-28s %lld queries, %lld references, D %lld\n", "data", static_cast<long long>(q.x.rows()),
                static_cast<long long>(r.x.rows()), static_cast<long long>(q.x.cols()));
    std::printf("%-28s %.4f\n", "precision@1", p1);
    for (int shots : {1, 5}) {
      eval::FewShotOptions o;
      o.ways = ways, o.shots = shots, o.queries_per_class = queries_per_class, o.episodes = episodes, o.seed = seed;
      const std::string key = std::to_string(ways) + "-way " + std::to_string(shots) + "-shot";
      try {
        const eval::FewShotResult f = eval::few_shot_accuracy(eq, q.labels, o);
        std::printf("%-28s %.4f +- %.4f (std %.4f, %d episodes)\n", key.c_str(), f.mean, f.ci95, f.std_dev, f.episodes);
        out["few_shot"][key] = {{"mean", f.mean}, {"std", f.std_dev}, {"ci95", f.ci95}, {"episodes", f.episodes}};
      } catch (const std::invalid_argument& e) {
        std::printf("%-28s skipped: %s\n", key.c_str(), e.what());
      }
    }
    std::printf("%-28s %.4f\n", "circular variance", circvar);
    std::printf("%-28s %.4f (max ln N = %.4f)\n", "entropy (nats)", entropy, std::log(double(all.rows())));
    std::printf("%-28s %lld of %lld\n", "distinct rows", static_cast<long long>(counts.size()),
                static_cast<long long>(all.rows()));
    if (!json_path.empty()) nn::io::write_file_atomic(json_path, out.dump(2) + "\n");
    if (!csv_path.empty()) {
      std::string header = "head,queries,references,dim,precision_at_1", row;
      char buf[512];
      std::snprintf(buf, sizeof buf, "%s,%lld,%lld,%lld,%.6f", head.c_str(), static_cast<long long>(q.x.rows()),
                    static_cast<long long>(r.x.rows()), static_cast<long long>(q.x.cols()), p1);
      row = buf;
      for (int shots : {1, 5}) {
        const std::string key = std::to_string(ways) + "-way " + std::to_string(shots) + "-shot";
        header += ",fewshot_" + std::to_string(ways) + "w" + std::to_string(shots) + "s_mean,fewshot_" +
                  std::to_string(ways) + "w" + std::to_string(shots) + "s_std";
        const bool have = out.contains("few_shot") && out["few_shot"].contains(key);
        std::snprintf(buf, sizeof buf, ",%.6f,%.6f", have ? out["few_shot"][key]["mean"].get<double>() : NAN,
                      have ? out["few_shot"][key]["std"].get<double>() : NAN);
        row += buf;
      }
      header += ",circular_variance,entropy_nats,distinct_rows\n";
      std::snprintf(buf, sizeof buf, ",%.6f,%.6f,%lld\n", circvar, entropy, static_cast<long long>(counts.size()));
      row += buf;
      nn::io::write_file_atomic(csv_path, header + row);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-eval: %s\n", e.what());
    return 1;
  }
}
