// The valid name nearest to a mistyped one (--optim.momentun -> --optim.momentum), for messages.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace torus::train {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours
// each cost 1 (a swap is the commonest typo, and plain Levenshtein counts it as 2).
inline size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The name in `names` nearest to `wrong`, or "" when none is within a third of its length (at
// least 2 edits): a suggestion that far off would mislead more than it helps.
inline std::string nearest_name(const std::string& wrong, const std::vector<std::string>& names) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, wrong.size() / 3) + 1;
  for (const std::string& n : names) {
    const size_t dist = edit_distance(wrong, n);
    if (dist < best_distance) best = n, best_distance = dist;
  }
  return best;
}

}  // namespace torus::train
