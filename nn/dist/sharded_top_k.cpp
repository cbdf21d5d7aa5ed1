#include "nn/dist/sharded_top_k.hpp"

#include <limits>
#include <string>
#include <vector>

namespace torus::dist {

TopK merge_sharded_top_k(const Communicator& comm, const TopK& mine, int k, bool larger_is_nearer) {
  const int64_t nq = mine.ids.rows(), kr = mine.ids.cols();
  if (k < 1 || kr > k || mine.scores.rows() != nq || mine.scores.cols() != kr)
    throw std::invalid_argument("merge_sharded_top_k: lists of ids " + std::to_string(nq) + "x" + std::to_string(kr) +
                                " and scores " + std::to_string(mine.scores.rows()) + "x" + std::to_string(mine.scores.cols()) +
                                " for k = " + std::to_string(k));
  const int R = comm.size();
  const std::vector<int64_t> queries = comm.allgather_value(nq), lengths = comm.allgather_value(kr);
  int64_t found = 0;
  for (int r = 0; r < R; ++r) {
    if (queries[size_t(r)] != nq)
      throw DistError("sharded search: rank " + std::to_string(r) + " searched " + std::to_string(queries[size_t(r)]) +
                      " queries, rank " + std::to_string(comm.rank()) + " " + std::to_string(nq) + " (every rank must search all of them)");
    found += lengths[size_t(r)];
  }
  if (found < k)
    throw DistError("sharded search: " + std::to_string(found) + " neighbours in all for k = " + std::to_string(k));
  // Every rank's lists padded to k columns, gathered rank after rank.
  std::vector<int64_t> my_ids(size_t(nq * k), -1);
  std::vector<double> my_scores(size_t(nq * k), 0.0);
  for (int64_t q = 0; q < nq; ++q)
    for (int64_t j = 0; j < kr; ++j) {
      my_ids[size_t(q * k + j)] = mine.ids(q, j);
      my_scores[size_t(q * k + j)] = mine.scores(q, j);
    }
  std::vector<int64_t> ids(my_ids.size() * size_t(R));
  std::vector<double> scores(my_scores.size() * size_t(R));
  comm.allgather(std::span<const int64_t>(my_ids), std::span<int64_t>(ids));
  comm.allgather(std::span<const double>(my_scores), std::span<double>(scores));

  TopK out{geometry::RowMatrix<int64_t>(nq, k), geometry::RowMatrix<double>(nq, k)};
  std::vector<int64_t> head(static_cast<size_t>(R));  // next unread entry of each rank's list
  for (int64_t q = 0; q < nq; ++q) {
    std::fill(head.begin(), head.end(), 0);
    for (int j = 0; j < k; ++j) {
      // The best head of the R lists; on equal scores the first rank in order keeps it.
      int best = -1;
      double best_score = 0;
      for (int r = 0; r < R; ++r) {
        if (head[size_t(r)] >= lengths[size_t(r)]) continue;
        const double s = scores[size_t((int64_t(r) * nq + q) * k + head[size_t(r)])];
        if (best < 0 || (larger_is_nearer ? s > best_score : s < best_score)) best = r, best_score = s;
      }
      const size_t at = size_t((int64_t(best) * nq + q) * k + head[size_t(best)]);
      out.ids(q, j) = ids[at];
      out.scores(q, j) = scores[at];
      ++head[size_t(best)];
    }
  }
  return out;
}

}  // namespace torus::dist
