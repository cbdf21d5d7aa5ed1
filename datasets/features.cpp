// Feature sets: a float matrix with one label per row, and the plain-text label reader.
#include "datasets/binary_file.hpp"
#include "datasets/npy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace torus::datasets {

namespace {
constexpr int64_t kMaxLabelFileBytes = int64_t(1) << 28;  // 256 MiB: tens of millions of labels

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

bool parse_int(const std::string& s, int& v) {
  const char* end = s.data() + s.size();
  const char* first = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  const auto r = std::from_chars(first, end, v);
  return r.ec == std::errc() && r.ptr == end && first != end;
}

// Anything strtod reads whole: such a first line is a malformed label, not a header.
bool is_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

std::string extension(const std::string& path) {
  const size_t dot = path.rfind('.'), slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}
}  // namespace

std::vector<int> read_label_csv(const std::string& path) {
  std::string text = detail::read_text_file(path, kMaxLabelFileBytes, "label file");
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(trim(std::string_view(text).substr(start, end - start)));
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();  // blank lines may end the file
  std::vector<int> labels;
  labels.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    int v = 0;
    if (parse_int(lines[i], v)) {
      labels.push_back(v);
    } else if (!(i == 0 && !lines[i].empty() && !is_number(lines[i]))) {
      std::string found = "a blank line";
      if (!lines[i].empty()) found = std::string("'").append(lines[i], 0, 40).append("'");
      throw DataError(path + ": line " + std::to_string(i + 1) + ": expected one integer label, found " + found);
    }
  }
  return labels;
}

FeatureSet load_features(const std::string& features_npy, const std::string& labels_path) {
  FloatMatrix m = read_npy_matrix(features_npy);
  if (m.rows == 0 || m.cols == 0) {
    throw DataError(features_npy + ": features of shape (" + std::to_string(m.rows) + ", " + std::to_string(m.cols) +
                    "), expected at least one row and one column");
  }
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c)
      if (!std::isfinite(m.values[size_t(r * m.cols + c)])) {
        throw DataError(features_npy + ": row " + std::to_string(r) + " column " + std::to_string(c) + " is " +
                        std::to_string(m.values[size_t(r * m.cols + c)]) + ", expected a finite feature");
      }

  std::vector<int64_t> labels;
  const std::string ext = extension(labels_path);
  if (ext == "npy") {
    labels = read_npy_integers(labels_path);
  } else if (ext == "csv" || ext == "txt") {
    const std::vector<int> csv = read_label_csv(labels_path);
    labels.assign(csv.begin(), csv.end());
  } else {
    throw DataError(labels_path + ": labels file extension '" + ext + "', expected .npy, .csv or .txt");
  }
  if (int64_t(labels.size()) != m.rows) {
    throw DataError(labels_path + ": " + std::to_string(labels.size()) + " labels for the " + std::to_string(m.rows) +
                    " feature rows of " + features_npy);
  }

  FeatureSet set;
  set.n = m.rows;
  set.dim = m.cols;
  set.values = std::move(m.values);
  set.labels.resize(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= kMaxFeatureClasses) {
      throw DataError(labels_path + ": label " + std::to_string(labels[i]) + " of row " + std::to_string(i) +
                      " is outside [0, " + std::to_string(kMaxFeatureClasses) + ")");
    }
    set.labels[i] = int(labels[i]);
    set.classes = std::max(set.classes, set.labels[i] + 1);
  }
  return set;
}

}  // namespace torus::datasets
