#include "datasets/audio_manifest.hpp"

#include "datasets/binary_file.hpp"
#include "datasets/image_file.hpp"

#include <charconv>
#include <cmath>

namespace torus::datasets {

namespace {

// Splits one record at `at` into fields, moving `at` past its line end. Quoted fields may hold
// commas, doubled quotes and line breaks (which then belong to the field, not the record).
std::vector<std::string> next_record(const std::string& source, const std::string& text, size_t& at, int64_t& line) {
  std::vector<std::string> fields(1);
  const int64_t first_line = line;
  bool quoted = false, was_quoted = false;
  while (at < text.size()) {
    const char c = text[at++];
    if (quoted) {
      if (c == '"') {
        if (at < text.size() && text[at] == '"') {
          fields.back() += '"';
          ++at;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        fields.back() += c;
      }
    } else if (c == '"') {
      if (!fields.back().empty() || was_quoted)
        throw DataError(source + ":" + std::to_string(line) + ": field " + std::to_string(fields.size()) +
                        ": a quote inside an unquoted field (quote the whole field and double the quote)");
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
      was_quoted = false;
    } else if (c == '\n') {
      ++line;
      return fields;
    } else if (c == '\r' && at < text.size() && text[at] == '\n') {
      // CRLF line end: the '\n' ends the record next.
    } else {
      if (was_quoted)
        throw DataError(source + ":" + std::to_string(line) + ": field " + std::to_string(fields.size()) +
                        ": text after a closing quote");
      fields.back() += c;
    }
  }
  if (quoted) throw DataError(source + ":" + std::to_string(first_line) + ": a quoted field is never closed");
  ++line;
  return fields;
}

std::string trimmed(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

double seconds(const std::string& where, const std::string& field, const std::string& text) {
  const std::string t = trimmed(text);
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v) || v < 0 || v > 1e9)
    throw DataError(where + ": field '" + field + "': expected seconds (a number >= 0), got \"" + text + "\"");
  return v;
}

bool lower_equals(const std::string& a, const char* b) {
  const std::string t = trimmed(a);
  size_t i = 0;
  for (; i < t.size() && b[i]; ++i)
    if (std::tolower(static_cast<unsigned char>(t[i])) != b[i]) return false;
  return i == t.size() && !b[i];
}

}  // namespace

std::vector<ManifestRow> parse_audio_manifest(const std::string& source, const std::string& text) {
  std::vector<ManifestRow> rows;
  size_t at = 0;
  int64_t line = 1;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) at = 3;  // a UTF-8 byte-order mark, as spreadsheets write
  bool first = true;
  while (at < text.size()) {
    const int64_t row_line = line;
    const std::vector<std::string> f = next_record(source, text, at, line);
    const std::string where = source + ":" + std::to_string(row_line);
    if (f.size() == 1 && trimmed(f[0]).empty()) {  // blank line
      first = false;
      continue;
    }
    if (first && f.size() >= 2 && lower_equals(f[0], "path") && lower_equals(f[1], "label")) {
      first = false;
      continue;
    }
    first = false;
    if (f.size() < 2 || f.size() > 4)
      throw DataError(where + ": " + std::to_string(f.size()) + " fields, expected path,label[,start,end]");
    ManifestRow r;
    r.line = row_line;
    r.path = trimmed(f[0]);
    r.label = trimmed(f[1]);
    if (r.path.empty()) throw DataError(where + ": field 'path' is empty");
    if (r.path.find('\0') != std::string::npos) throw DataError(where + ": field 'path' holds a NUL byte");
    if (r.label.empty()) throw DataError(where + ": field 'label' is empty");
    if (f.size() >= 3 && !trimmed(f[2]).empty()) r.start = seconds(where, "start", f[2]);
    if (f.size() == 4 && !trimmed(f[3]).empty()) {
      r.end = seconds(where, "end", f[3]);
      if (r.end <= r.start)
        throw DataError(where + ": field 'end': " + trimmed(f[3]) + " s is not after start " + std::to_string(r.start) + " s");
    }
    rows.push_back(std::move(r));
  }
  if (rows.empty()) throw DataError(source + ": the manifest lists no clips (expected rows path,label[,start,end])");
  return rows;
}

std::vector<ManifestRow> read_audio_manifest(const std::string& path) {
  return parse_audio_manifest(path, detail::read_text_file(path, kMaxManifestBytes, "audio manifest"));
}

}  // namespace torus::datasets
