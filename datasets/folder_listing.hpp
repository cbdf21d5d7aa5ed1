// Listing a class-per-subfolder tree (internal: not installed), shared by image and audio
// folders: sorted names, hidden entries skipped, extensions compared without case.
#pragma once

#include "datasets/image_file.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

namespace torus::datasets::detail {

// Whether `name` ends in "." + one of `extensions` (lower case), in any case.
inline bool has_extension(const std::string& name, std::initializer_list<const char*> extensions) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const char* e : extensions)
    if (ext == e) return true;
  return false;
}

// Sorted names of the entries of `dir` that pass `keep` (hidden entries never do).
template <class Keep>
std::vector<std::string> sorted_entries(const std::filesystem::path& dir, Keep keep) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.' && keep(*it)) names.push_back(name);
  }
  if (ec) throw DataError(dir.string() + ": cannot list the folder (" + ec.message() + ")");
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace torus::datasets::detail
