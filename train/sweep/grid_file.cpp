#include "train/sweep/grid_file.hpp"

#include "train/nearest_name.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>

namespace torus::sweep {

namespace fs = std::filesystem;

namespace {
// A grid file is a few hundred bytes; a megabyte means a wrong file, refused before parsing.
constexpr std::uintmax_t kMaxGridBytes = 1u << 20;

const train::Setting* find_setting(const std::string& key) {
  for (const train::Setting& s : train::settings())
    if (s.key == key) return &s;
  return nullptr;
}

std::vector<std::string> setting_keys() {
  std::vector<std::string> keys;
  for (const train::Setting& s : train::settings()) keys.push_back(s.key);
  return keys;
}

std::string line_of(const GridSpec& g, const toml::node& node) {
  return g.path + ":" + std::to_string(node.source().begin.line);
}

const train::Setting& checked_setting(const GridSpec& g, const std::string& key, const toml::node& node, const char* table) {
  const train::Setting* s = find_setting(key);
  if (!s) {
    const std::string near = train::nearest_name(key, setting_keys());
    throw GridError(line_of(g, node) + ": " + table + " \"" + key + "\": unknown torus-train setting" +
                    (near.empty() ? "" : " (did you mean " + near + "?)") + "; torus-train --help lists them");
  }
  return *s;
}

std::string number_text(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// The value as flag text, after checking its TOML type against the setting's.
std::string value_text(const GridSpec& g, const train::Setting& s, const toml::node& node, const std::string& where) {
  const auto bad = [&](const char* expected) {
    return GridError(line_of(g, node) + ": " + where + ": expected " + expected + ", got " +
                     std::string(node.is_string() ? "a string" : node.is_integer() ? "an integer" : node.is_floating_point() ? "a number"
                                                : node.is_boolean()                 ? "a boolean"
                                                                                    : "a table or array"));
  };
  return std::visit(
      [&](auto member) -> std::string {
        using M = std::remove_reference_t<decltype(std::declval<train::TrainConfig&>().*member)>;
        if constexpr (std::is_same_v<M, std::string>) {
          if (!node.is_string()) throw bad("a string");
          return node.as_string()->get();
        } else if constexpr (std::is_same_v<M, bool>) {
          if (!node.is_boolean()) throw bad("true or false");
          return node.as_boolean()->get() ? "true" : "false";
        } else if constexpr (std::is_same_v<M, int64_t>) {
          if (!node.is_integer()) throw bad("an integer");
          return std::to_string(node.as_integer()->get());
        } else {
          if (node.is_integer()) return std::to_string(node.as_integer()->get());
          if (!node.is_floating_point()) throw bad("a number");
          return number_text(node.as_floating_point()->get());
        }
      },
      s.field);
}

// Checks the value's range and choices the way torus-train will, naming the grid's line.
void check_value(const GridSpec& g, const SettingValue& v, const toml::node& node) {
  train::TrainConfig scratch;
  try {
    train::apply_flags(scratch, {{v.key, v.text}});
  } catch (const train::ConfigError& e) {
    std::string message = e.what();
    const std::string flag = "--" + v.key + ": ";
    if (message.rfind(flag, 0) == 0) message = message.substr(flag.size());
    throw GridError(line_of(g, node) + ": " + v.key + ": " + message);
  }
}

// [base] holds settings either as dotted keys or as section tables: both are nested tables in TOML.
void read_base(GridSpec& g, const toml::table& table, const std::string& prefix) {
  for (auto&& [key, node] : table) {
    const std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const auto* sub = node.as_table(); sub && !find_setting(name)) {
      read_base(g, *sub, name);
      continue;
    }
    const train::Setting& s = checked_setting(g, name, node, "[base]");
    SettingValue v{name, value_text(g, s, node, "[base] " + name)};
    check_value(g, v, node);
    g.base.push_back(v);
  }
}

void read_axes(GridSpec& g, const toml::table& table, const std::string& prefix) {
  for (auto&& [key, node] : table) {
    const std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const auto* sub = node.as_table()) {
      read_axes(g, *sub, name);
      continue;
    }
    const train::Setting& s = checked_setting(g, name, node, "[axes]");
    const auto* list = node.as_array();
    if (!list) throw GridError(line_of(g, node) + ": [axes] " + name + ": expected a list of values, [a, b, ...]");
    if (list->empty()) throw GridError(line_of(g, node) + ": [axes] " + name + ": an empty axis makes no cells; give at least one value");
    Axis axis{name, {}, node.source().begin.line, node.source().begin.column};
    for (const toml::node& item : *list) {
      SettingValue v{name, value_text(g, s, item, "[axes] " + name)};
      check_value(g, v, item);
      if (std::find(axis.values.begin(), axis.values.end(), v.text) != axis.values.end())
        throw GridError(line_of(g, item) + ": [axes] " + name + ": the value " + v.text + " is listed twice");
      axis.values.push_back(v.text);
    }
    g.axes.push_back(std::move(axis));
  }
}

void read_eval(GridSpec& g, const toml::table& table) {
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    if (name == "quant_eval") {
      if (!node.is_boolean()) throw GridError(line_of(g, node) + ": [eval] quant_eval: expected true or false");
      g.quant_eval = node.as_boolean()->get();
    } else if (name == "quant_modes") {
      const auto* list = node.as_array();
      if (!list || list->empty())
        throw GridError(line_of(g, node) + ": [eval] quant_modes: expected a non-empty list of torus-quant-eval rows");
      for (const toml::node& item : *list) {
        const auto* mode = item.as_string();
        const auto& names = quant_mode_names();
        if (!mode || std::find(names.begin(), names.end(), mode->get()) == names.end()) {
          std::string all;
          for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
          throw GridError(line_of(g, item) + ": [eval] quant_modes: expected one of " + all + ", got " +
                          (mode ? "\"" + mode->get() + "\"" : std::string("another type")));
        }
        g.quant_modes.push_back(mode->get());
      }
    } else {
      const std::string near = train::nearest_name(name, {"quant_modes", "quant_eval"});
      throw GridError(line_of(g, node) + ": [eval] \"" + name + "\": unknown key" +
                      (near.empty() ? "" : " (did you mean " + near + "?)") + "; [eval] holds quant_modes, quant_eval");
    }
  }
}
}  // namespace

const std::vector<std::string>& quant_mode_names() {
  static const std::vector<std::string> names = {"none",   "float16", "8bit",   "1bit",   "pq8_2",  "pq8_1",  "pq4_4", "pq4_2",
                                                 "u8-lut", "u8-l1",   "u8-dot", "cpq8_2", "cpq8_1", "cpq4_4", "cpq4_2"};
  return names;
}

GridSpec read_grid_file(const std::string& path) {
  GridSpec g;
  g.path = path;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::is_regular_file(status)) throw GridError(path + ": not a readable grid file");
  if (fs::file_size(path) > kMaxGridBytes)
    throw GridError(path + ": " + std::to_string(fs::file_size(path)) + " bytes; a grid file is at most " +
                    std::to_string(kMaxGridBytes));
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw GridError(path + ":" + std::to_string(e.source().begin.line) + ":" + std::to_string(e.source().begin.column) +
                    ": not valid TOML: " + std::string(e.description()));
  }
  for (auto&& [key, node] : root) {
    const std::string name(key.str());
    if (name == "base_config") {
      if (!node.is_string()) throw GridError(line_of(g, node) + ": base_config: expected a file name (a string)");
      const fs::path p(node.as_string()->get());
      g.base_config = (p.is_absolute() ? p : fs::path(path).parent_path() / p).lexically_normal().string();
      if (!fs::is_regular_file(g.base_config, ec))
        throw GridError(line_of(g, node) + ": base_config: " + g.base_config + " is not a file");
    } else if (name == "base" || name == "axes" || name == "eval") {
      const auto* table = node.as_table();
      if (!table) throw GridError(line_of(g, node) + ": " + name + ": expected a table [" + name + "]");
      if (name == "base") read_base(g, *table, "");
      else if (name == "axes") {
        read_axes(g, *table, "");
        // toml++ walks a table in key order; the cells' names and nesting follow the file's.
        std::sort(g.axes.begin(), g.axes.end(),
                  [](const Axis& a, const Axis& b) { return std::pair(a.line, a.column) < std::pair(b.line, b.column); });
      }
      else read_eval(g, *table);
    } else {
      const std::string near = train::nearest_name(name, {"base_config", "base", "axes", "eval"});
      throw GridError(line_of(g, node) + ": \"" + name + "\": unknown key" + (near.empty() ? "" : " (did you mean " + near + "?)") +
                      "; a grid file holds base_config, [base], [axes] and [eval]");
    }
  }
  std::set<std::string> on_axes;
  for (const Axis& a : g.axes) on_axes.insert(a.key);
  for (const SettingValue& v : g.base)
    if (on_axes.count(v.key)) throw GridError(path + ": " + v.key + " is both in [base] and in [axes]; keep one");
  return g;
}

train::TrainConfig base_config(const GridSpec& grid) {
  train::TrainConfig config;
  try {
    if (!grid.base_config.empty()) train::apply_toml_file(config, grid.base_config);
  } catch (const train::ConfigError& e) {
    throw GridError(grid.path + ": base_config: " + e.what());
  }
  std::vector<std::pair<std::string, std::string>> flags;
  for (const SettingValue& v : grid.base) flags.emplace_back(v.key, v.text);
  train::apply_flags(config, flags);  // each value already checked by read_grid_file
  return config;
}

}  // namespace torus::sweep
