// The k best references of one query, for exact k-NN search (code_search.hpp). References are
// offered in increasing index order, a block of scores at a time; a reference enters only if it is
// strictly nearer than the current k-th, and among equal scores it is placed after those already
// held. So ties always go to the lower reference index, the result does not depend on how the
// references were blocked, and a query's result never depends on other queries or on threads.
#pragma once

#include "geometry/row_matrix.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace torus::geometry {

// Row i is query i's neighbours, nearest first: indices are reference rows, scores the kernel's
// score for that pair (a similarity or a distance, as the search function says).
template <typename S>
struct KnnResult {
  RowMatrix<std::int64_t> indices;  // (N_q, k)
  RowMatrix<S> scores;              // (N_q, k)
};

// Whether a larger score (similarity) or a smaller one (distance) is nearer.
enum class Nearer { larger, smaller };

template <typename S, Nearer nearer>
class TopK {
 public:
  explicit TopK(int k) : k_(k), scores_(static_cast<std::size_t>(k)), indices_(static_cast<std::size_t>(k)) {}

  void clear() { count_ = 0; }
  int size() const { return count_; }

  static bool is_nearer(S a, S b) {
    if constexpr (nearer == Nearer::larger) return a > b;
    else return a < b;
  }

  // The score a reference must beat strictly to enter: the k-th's once the list is full, before
  // that the farthest value S can hold, which every other score beats.
  S threshold() const {
    if (count_ == k_) return scores_[static_cast<std::size_t>(k_ - 1)];
    return nearer == Nearer::larger ? std::numeric_limits<S>::lowest() : std::numeric_limits<S>::max();
  }

  // True if one of the n scores is strictly nearer than the current k-th (call when full).
  // Branch-free and vectorised by GCC: for integer scores a max (min) reduction, one vpmaxsd per
  // 16 scores; for float an OR of comparisons (GCC does not vectorise a float max reduction
  // without -ffast-math, as it could change which NaN or which zero wins).
  bool any_nearer(const S* scores, std::int64_t n) const {
    const S worst = scores_[static_cast<std::size_t>(k_ - 1)];
    if constexpr (std::is_integral_v<S>) {
      S best = worst;
      for (std::int64_t i = 0; i < n; ++i) best = is_nearer(scores[i], best) ? scores[i] : best;
      return best != worst;
    } else {
      int any = 0;  // int, not bool: GCC vectorises an int OR reduction
      for (std::int64_t i = 0; i < n; ++i) any |= static_cast<int>(is_nearer(scores[i], worst));
      return any != 0;
    }
  }

  // Offers one reference; index must exceed every index offered before.
  void push(S s, std::int64_t index) {
    int j = count_;
    if (count_ == k_) {
      if (!is_nearer(s, scores_[static_cast<std::size_t>(k_ - 1)])) return;
      j = k_ - 1;  // the k-th drops out
    } else {
      ++count_;
    }
    // Shift only entries that s beats strictly: equal scores keep their (lower) indices in front.
    while (j > 0 && is_nearer(s, scores_[static_cast<std::size_t>(j - 1)])) {
      scores_[static_cast<std::size_t>(j)] = scores_[static_cast<std::size_t>(j - 1)];
      indices_[static_cast<std::size_t>(j)] = indices_[static_cast<std::size_t>(j - 1)];
      --j;
    }
    scores_[static_cast<std::size_t>(j)] = s;
    indices_[static_cast<std::size_t>(j)] = index;
  }

  // Offers references first, ..., first + n - 1 with the given scores. Once the list is full,
  // most blocks are rejected by one vectorised test; a block that passes is re-tested in chunks
  // of 64, and only chunks that pass are walked one score at a time.
  void push_block(const S* scores, std::int64_t n, std::int64_t first) {
    std::int64_t i = 0;
    for (; i < n && count_ < k_; ++i) push(scores[i], first + i);
    if (i == n || !any_nearer(scores + i, n - i)) return;
    push_chunks(scores, n, first, i);
  }

  // The same when the caller knows the block's best score (a kernel that kept it in a register).
  void push_block(const S* scores, std::int64_t n, std::int64_t first, S best) {
    if (count_ == k_ && !is_nearer(best, scores_[static_cast<std::size_t>(k_ - 1)])) return;
    std::int64_t i = 0;
    for (; i < n && count_ < k_; ++i) push(scores[i], first + i);
    push_chunks(scores, n, first, i);
  }

 private:
  void push_chunks(const S* scores, std::int64_t n, std::int64_t first, std::int64_t i) {
    constexpr std::int64_t kChunk = 64;
    for (; i < n; i += kChunk) {
      const std::int64_t m = std::min(kChunk, n - i);
      if (!any_nearer(scores + i, m)) continue;
      for (std::int64_t j = i; j < i + m; ++j) push(scores[j], first + j);
    }
  }

 public:
  // Copies the k entries, nearest first, to row `row` of the result (call when full).
  void write(KnnResult<S>& out, Eigen::Index row) const {
    for (int j = 0; j < k_; ++j) {
      out.scores(row, j) = scores_[static_cast<std::size_t>(j)];
      out.indices(row, j) = indices_[static_cast<std::size_t>(j)];
    }
  }

 private:
  int k_;
  int count_ = 0;
  std::vector<S> scores_;
  std::vector<std::int64_t> indices_;
};

// The argument checks every search function shares; `what` names the caller.
inline void check_knn_arguments(const char* what, Eigen::Index query_cols, Eigen::Index ref_rows,
                                Eigen::Index ref_cols, int k, int threads) {
  if (query_cols != ref_cols) {
    throw std::invalid_argument(std::string(what) + ": queries have " + std::to_string(query_cols) +
                                " columns but references have " + std::to_string(ref_cols));
  }
  if (k < 1 || k > ref_rows) {
    throw std::invalid_argument(std::string(what) + ": k = " + std::to_string(k) + " must be in [1, " +
                                std::to_string(ref_rows) + "] (the number of references)");
  }
  if (threads < 1) throw std::invalid_argument(std::string(what) + ": threads must be >= 1, got " + std::to_string(threads));
}

}  // namespace torus::geometry
