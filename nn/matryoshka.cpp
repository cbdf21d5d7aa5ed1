#include "nn/matryoshka.hpp"

#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace torus::nn {

namespace {
std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) items.push_back(item);
  if (!text.empty() && text.back() == ',') items.emplace_back();
  return items;
}

template <typename N>
bool parse_number(const std::string& text, N& out) {
  size_t b = 0, e = text.size();
  while (b < e && text[b] == ' ') ++b;
  while (e > b && text[e - 1] == ' ') --e;
  const auto [end, ec] = std::from_chars(text.data() + b, text.data() + e, out);
  return b < e && ec == std::errc() && end == text.data() + e;
}
}  // namespace

std::vector<CircleLevel> parse_circle_levels(const std::string& levels, const std::string& weights, int64_t circles) {
  const auto bad = [](const std::string& what) { return std::invalid_argument("Matryoshka levels: " + what); };
  std::vector<CircleLevel> out;
  for (const std::string& item : split_commas(levels)) {
    CircleLevel level;
    if (!parse_number(item, level.circles) || level.circles < 1 || level.circles > circles)
      throw bad("\"" + item + "\" in \"" + levels + "\", expected a circle count in [1, " + std::to_string(circles) + "]");
    if (!out.empty() && level.circles <= out.back().circles)
      throw bad("\"" + levels + "\" is not strictly increasing");
    out.push_back(level);
  }
  if (out.empty()) throw bad("no level in \"" + levels + "\", expected circle counts such as \"1,2,4,8\"");
  if (!weights.empty()) {
    const std::vector<std::string> items = split_commas(weights);
    if (items.size() != out.size())
      throw bad(std::to_string(items.size()) + " weights \"" + weights + "\" for " + std::to_string(out.size()) + " levels");
    for (size_t i = 0; i < items.size(); ++i)
      if (!parse_number(items[i], out[i].weight) || !std::isfinite(out[i].weight) || !(out[i].weight > 0))
        throw bad("weight \"" + items[i] + "\", expected a positive number");
  }
  return out;
}

int64_t head_circles(HeadMode mode, int64_t dim) {
  if (mode == HeadMode::torusN) return dim / 2;
  if (mode == HeadMode::torusC) return dim;
  throw std::invalid_argument(std::string("Matryoshka levels are circles of a torus head (torusN, torusC), not of ") +
                              head_mode_name(mode));
}

template <typename T>
Var<T> circle_prefix(const Var<T>& z, HeadMode mode, int64_t k) {
  const int64_t dim = z.shape()[1];
  if (k < 1 || k > head_circles(mode, dim))
    throw std::invalid_argument("circle_prefix: " + std::to_string(k) + " circles of " + std::to_string(head_circles(mode, dim)));
  const int64_t columns = mode == HeadMode::torusN ? 2 * k : k;
  return columns == dim ? z : slice(z, 1, 0, columns);
}

template Var<float> circle_prefix(const Var<float>&, HeadMode, int64_t);
template Var<double> circle_prefix(const Var<double>&, HeadMode, int64_t);

}  // namespace torus::nn
