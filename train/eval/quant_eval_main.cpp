// torus-quant-eval: the quantisation table of method.md 9 and 12 for embeddings from torus-embed,
// test queries against training references, one row per mode:
//   none       float32, precision@1 by inner product in the evaluated space
//   float16    IEEE half of the stored embeddings
//   8bit       grid with 8 bits per dimension, range fitted on the references (torus: on the
//              unwrapped angles, then Clifford-mapped; sphere: L2 on the grid values)
//   1bit       grid with 1 bit (torusN: the quadrant code, 2 bits per circle), Hamming distance
//   pqB_M      product quantisation of the 8-bit space (M sub-quantisers of B bits), searched
//              with asymmetric distance tables (the query stays in the 8-bit space)
//   u8-lut     native torus codes, one uint8 per circle over the fixed range [0, 1): the cosine
//              table similarity (int16 entries, int32 sums)
//   u8-l1      the same codes by circular L1 on the wrapped int8 differences
//   u8-dot     the same codes by the cosine dot product cos a cos b + sin a sin b of int8 cos/sin
//              tables; the stored code keeps 8 bits per circle, the search index in memory holds
//              the cos/sin bytes, 16 bits per circle (16 bytes per vector for D16 torusN)
//   cpqB_M     our circular product quantisation of the angles (circular k-means), same bits
// Columns: bits per vector, precision@1, circular variance and entropy of queries and references
// together (in the evaluated space of the dequantised vectors), distinct codes, queries/s of the
// search alone.
#include "datasets/npy.hpp"
#include "geometry/circular_pq.hpp"
#include "geometry/circular_stats.hpp"
#include "geometry/clifford_torus.hpp"
#include "geometry/code_search.hpp"
#include "geometry/code_stats.hpp"
#include "geometry/float16.hpp"
#include "geometry/grid_quantizer.hpp"
#include "geometry/one_bit_codes.hpp"
#include "geometry/product_quantizer.hpp"
#include "nn/head_mode.hpp"
#include "nn/io/atomic_file.hpp"
#include "train/elapsed.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/eval/head_modes.hpp"
#include "train/eval/labelled_embeddings.hpp"
#include "train/eval/precision.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>

using namespace torus;
using geometry::CodeMatrix;
using Mat = geometry::RowMatrix<float>;

namespace {
struct Row {
  std::string mode;
  int bits = 0;
  double precision = 0, circvar = 0, entropy = 0, qps = 0;
  int64_t distinct = 0;
};

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return train::seconds_since(t0);
}

Mat stack(const Mat& a, const Mat& b) {
  Mat s(a.rows() + b.rows(), a.cols());
  s << a, b;
  return s;
}

CodeMatrix stack(const CodeMatrix& a, const CodeMatrix& b) {
  CodeMatrix s(a.rows() + b.rows(), a.cols());
  s << a, b;
  return s;
}

// L2 nearest neighbour as an inner product: [a, 1] . [b, -|b|^2 / 2] = a.b - |b|^2 / 2.
std::pair<Mat, Mat> l2_as_inner_product(const Mat& q, const Mat& r) {
  Mat qa(q.rows(), q.cols() + 1), ra(r.rows(), r.cols() + 1);
  qa << q, Mat::Ones(q.rows(), 1);
  ra << r, (-0.5f * r.rowwise().squaredNorm()).eval();
  return {qa, ra};
}

// Grid codes as bytes (q mod 256): for the torus the wrap is exact; for a sphere a code of -1
// (below the training minimum) counts as 255 here, which only matters for distinct counts.
CodeMatrix low_bytes(const geometry::RowMatrix<int32_t>& q) { return q.unaryExpr([](int32_t v) { return uint8_t(v & 255); }); }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Prints the quantisation table (method.md 9 and 12) of torus-embed's embeddings."};
  std::string dir, head, csv_path, json_path;
  int threads = 2;
  app.add_option("--embeddings", dir, "torus-embed's output folder")->required()->check(CLI::ExistingDirectory);
  app.add_option("--head", head, "override meta.json's head")->check(CLI::IsMember(eval::head_mode_names(eval::has_quantisation_table)));
  app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--csv", csv_path, "also write the table as CSV");
  app.add_option("--json", json_path, "also write the table as JSON");
  CLI11_PARSE(app, argc, argv);
  try {
    const std::string meta_head = eval::embedding_folder_head(dir);
    if (head.empty()) {
      head = meta_head;
      if (!eval::has_quantisation_table(nn::parse_head_mode(head)))
        throw datasets::DataError(dir + "/meta.json: head \"" + head + "\" has no quantisation table (" +
                                  join(eval::head_mode_names(eval::has_quantisation_table)) + ")");
    }
    const nn::HeadMode mode = nn::parse_head_mode(head);
    const bool torus = mode != nn::HeadMode::sphere;
    const eval::EvaluationSet set = eval::load_evaluation_set(eval::embedding_folder_files(dir), mode);
    const eval::LabelledEmbeddings &Q = set.queries, &R = set.references;
    const int64_t D = Q.x.cols();
    const int64_t N = Q.x.rows() + R.x.rows();
    // The flat-torus angles (turns) the torus modes are quantised in; the sphere is quantised as is.
    const Mat uq = eval::quantisation_space(Q.x, mode), ur = eval::quantisation_space(R.x, mode);
    const int64_t dims = uq.cols();  // K circles, or D sphere coordinates
    auto evaluated = [&](const Mat& u) -> Mat { return eval::evaluated_space_of_quantised(u, mode); };
    auto circvar = [&](const Mat& uq_, const Mat& ur_) {
      return double(geometry::circular_variance_rows<float>(stack(evaluated(uq_), evaluated(ur_))));
    };
    std::vector<Row> rows;
    // distinct codes and their entropy (method.md 8: padded to min(N, 2^bits) possible values)
    auto code_stats = [&](Row& r, const CodeMatrix& codes, int bits) {
      const auto counts = geometry::distinct_row_counts(codes);
      r.distinct = int64_t(counts.size());
      r.entropy = geometry::shannon_entropy_nats(counts, N, bits);
    };
    auto add = [&](Row r) {
      r.qps = r.qps > 0 ? double(Q.x.rows()) / r.qps : 0;  // r.qps carried the search seconds
      rows.push_back(r);
      std::fprintf(stderr, "  %-9s done\n", r.mode.c_str());
    };
    auto inner_product_row = [&](const std::string& name, int bits, const Mat& eq, const Mat& er, const Mat& uq_,
                                 const Mat& ur_, const CodeMatrix* codes, int code_bits) {
      geometry::KnnResult<float> knn;
      Row r{name, bits};
      r.qps = seconds([&] { knn = geometry::knn_inner_product(eq, er, 1, threads); });
      r.precision = eval::label_match_rate(knn.indices, Q.labels, R.labels);
      r.circvar = circvar(uq_, ur_);
      const Mat all = stack(uq_, ur_);
      if (codes) {
        code_stats(r, *codes, code_bits);
      } else {
        const auto counts = geometry::distinct_row_counts<float>(all);
        r.distinct = int64_t(counts.size());
        r.entropy = geometry::shannon_entropy_nats(counts, N, 0);
      }
      add(r);
    };

    // none and float16
    inner_product_row("none", int(32 * D), evaluated(uq), evaluated(ur), uq, ur, nullptr, 0);
    {
      const Mat hq = geometry::half_round_trip(Q.x), hr = geometry::half_round_trip(R.x);
      const Mat huq = eval::quantisation_space(hq, mode), hur = eval::quantisation_space(hr, mode);
      inner_product_row("float16", int(16 * D), evaluated(huq), evaluated(hur), huq, hur, nullptr, 0);
    }
    // 8bit grid on the quantisation space
    const geometry::GridQuantizer grid8 = geometry::GridQuantizer::fit<float>(ur, 8);
    const auto gq = grid8.encode<float>(uq), gr = grid8.encode<float>(ur);
    {
      const Mat vq = grid8.values(gq), vr = grid8.values(gr);
      const CodeMatrix codes = stack(low_bytes(gq), low_bytes(gr));
      if (torus) {
        inner_product_row("8bit", int(8 * dims), evaluated(vq), evaluated(vr), vq, vr, &codes, int(8 * dims));
      } else {
        const auto [aq, ar] = l2_as_inner_product(vq, vr);
        inner_product_row("8bit", int(8 * dims), aq, ar, vq, vr, &codes, int(8 * dims));
        rows.back().circvar = double(geometry::circular_variance_rows<float>(stack(vq, vr)));
      }
    }
    // 1bit
    {
      const Mat sq = mode == nn::HeadMode::torusN ? geometry::torusN_one_bit_space<float>(Q.x)
                     : mode == nn::HeadMode::torusC ? geometry::torusC_one_bit_space<float>(Q.x) : Q.x;
      const Mat sr = mode == nn::HeadMode::torusN ? geometry::torusN_one_bit_space<float>(R.x)
                     : mode == nn::HeadMode::torusC ? geometry::torusC_one_bit_space<float>(R.x) : R.x;
      const geometry::GridQuantizer grid1 = geometry::GridQuantizer::fit<float>(sr, 1);
      const auto bq = geometry::one_bit_codes<float>(grid1, sq), br = geometry::one_bit_codes<float>(grid1, sr);
      geometry::KnnResult<int32_t> knn;
      Row r{"1bit", int(sq.cols())};
      r.qps = seconds([&] { knn = geometry::knn_hamming(bq, br, 1, threads); });
      r.precision = eval::label_match_rate(knn.indices, Q.labels, R.labels);
      const CodeMatrix bits = stack(geometry::unpack_bits(bq, sq.cols()), geometry::unpack_bits(br, sr.cols()));
      const Mat signs = bits.cast<float>().array() * 2 - 1;  // each bit as +-1: the code's own geometry
      r.circvar = double(geometry::circular_variance_rows<float>(signs));
      code_stats(r, bits, int(sq.cols()));
      add(r);
    }
    // product quantisation of the 8-bit space, plain and circular
    const CodeMatrix cq = torus ? (mode == nn::HeadMode::torusN ? geometry::torusN_codes<float>(Q.x) : geometry::torusC_codes<float>(Q.x))
                                : low_bytes(gq);
    const CodeMatrix cr = torus ? (mode == nn::HeadMode::torusN ? geometry::torusN_codes<float>(R.x) : geometry::torusC_codes<float>(R.x))
                                : low_bytes(gr);
    const Mat eq8 = torus ? geometry::eight_bit_space(cq) : geometry::eight_bit_space(gq);
    const Mat er8 = torus ? geometry::eight_bit_space(cr) : geometry::eight_bit_space(gr);
    geometry::KMeansOptions km;
    km.threads = threads;
    // One row per (bits, M) of a product quantiser trained on the references' `space` and searched
    // with the queries' own `space` by asymmetric tables; `to_unit` maps decoded rows to [0, 1).
    auto pq_rows = [&](const std::string& prefix, const Mat& rs, const Mat& qs, auto train, auto search, float to_unit) {
      for (auto [bits, M] : {std::pair{8, 2}, {8, 1}, {4, 4}, {4, 2}}) {
        const std::string name = prefix + std::to_string(bits) + "_" + std::to_string(M);
        if (dims % M) {
          std::fprintf(stderr, "  %-9s skipped: %d sub-quantisers do not divide %lld dimensions\n", name.c_str(), M,
                       static_cast<long long>(dims));
          continue;
        }
        const auto pq = train(rs, M, bits);
        const CodeMatrix pr = pq.encode(rs, threads), pqq = pq.encode(qs, threads);
        geometry::KnnResult<float> knn;
        Row r{name, M * bits};
        r.qps = seconds([&] { knn = search(pq, qs, pr); });
        r.precision = eval::label_match_rate(knn.indices, Q.labels, R.labels);
        // decoded back to [0, 1): angles for the torus, grid values for the sphere
        const Mat dq = pq.decode(pqq) * to_unit, dr = pq.decode(pr) * to_unit;
        r.circvar = torus ? circvar(dq, dr) : double(geometry::circular_variance_rows<float>(stack(dq, dr)));
        code_stats(r, stack(pqq, pr), M * bits);
        add(r);
      }
    };
    pq_rows(
        "pq", er8, eq8, [&](const Mat& x, int M, int bits) { return geometry::ProductQuantizer::train(x, M, bits, km); },
        [&](const auto& pq, const Mat& q, const CodeMatrix& codes) { return geometry::knn_pq(pq, q, codes, 1, threads); },
        1.0f / 256.0f);
    if (torus) {
      // native uint8 torus codes: the cosine table, circular L1 and the cosine dot product
      const geometry::CosineLut lut(127);
      const CodeMatrix all_codes = stack(cq, cr);
      const Mat dq = cq.cast<float>() / 256.0f, dr = cr.cast<float>() / 256.0f;
      for (const std::string name : {"u8-lut", "u8-l1", "u8-dot"}) {
        geometry::KnnResult<int32_t> knn;
        Row r{name, int(8 * dims)};
        r.qps = seconds([&] {
          knn = name == "u8-lut"  ? geometry::knn_cosine_lut(cq, cr, lut, 1, threads)
                : name == "u8-l1" ? geometry::knn_circular_l1(cq, cr, 1, threads)
                                  : geometry::knn_cosine_dot(cq, cr, lut, 1, threads);
        });
        r.precision = eval::label_match_rate(knn.indices, Q.labels, R.labels);
        r.circvar = circvar(dq, dr);
        code_stats(r, all_codes, int(8 * dims));
        add(r);
      }
      pq_rows(
          "cpq", ur, uq,
          [&](const Mat& x, int M, int bits) { return geometry::CircularProductQuantizer::train(x, M, bits, km); },
          [&](const auto& pq, const Mat& q, const CodeMatrix& codes) {
            return geometry::knn_circular_pq(pq, q, codes, 1, threads);
          },
          1.0f);
    }

    std::printf("%s D%lld: %lld test queries against %lld training references, %d threads\n", head.c_str(),
                static_cast<long long>(D), static_cast<long long>(Q.x.rows()), static_cast<long long>(R.x.rows()), threads);
    std::printf("%-9s %6s %12s %10s %10s %9s %12s\n", "mode", "bits", "precision@1", "circvar", "entropy", "distinct",
                "queries/s");
    nlohmann::json table = nlohmann::json::array();
    std::string csv = "mode,bits,precision_at_1,circular_variance,entropy_nats,distinct,queries_per_s\n";
    for (const Row& r : rows) {
      std::printf("%-9s %6d %12.4f %10.4f %10.4f %9lld %12.0f\n", r.mode.c_str(), r.bits, r.precision, r.circvar,
                  r.entropy, static_cast<long long>(r.distinct), r.qps);
      char line[256];
      std::snprintf(line, sizeof line, "%s,%d,%.6f,%.6f,%.6f,%lld,%.1f\n", r.mode.c_str(), r.bits, r.precision, r.circvar,
                    r.entropy, static_cast<long long>(r.distinct), r.qps);
      csv += line;
      table.push_back({{"mode", r.mode}, {"bits", r.bits}, {"precision_at_1", r.precision}, {"circular_variance", r.circvar},
                       {"entropy_nats", r.entropy}, {"distinct", r.distinct}, {"queries_per_s", r.qps}});
    }
    if (!csv_path.empty()) nn::io::write_file_atomic(csv_path, csv);
    if (!json_path.empty())
      nn::io::write_file_atomic(json_path, nlohmann::json{{"head", head}, {"dim", D}, {"queries", Q.x.rows()},
                                                          {"references", R.x.rows()}, {"threads", threads}, {"rows", table}}
                                                   .dump(2) + "\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torus-quant-eval: %s\n", e.what());
    return 1;
  }
}
