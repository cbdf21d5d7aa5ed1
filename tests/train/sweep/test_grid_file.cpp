// The grid file: its cells in nested-loop order with readable names and resolved configurations,
// and every kind of bad file refused with a message naming the file, the line and the key.
#include <catch2/catch.hpp>

#include "train/sweep/grid_cells.hpp"
#include "train/sweep/grid_figures.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace torus::sweep;
namespace fs = std::filesystem;

namespace {
std::string write_grid(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("torus_sweep_grid_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& path) {
  try {
    expand_cells(read_grid_file(path));
  } catch (const GridError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a grid expands to the cross product, last axis fastest", "[sweep]") {
  const std::string base = write_grid("base.toml", "[train]\nepochs = 3\n");
  const std::string path = write_grid("grid.toml", "base_config = \"base.toml\"\n[base]\nmodel.dim = 8\n[base.optim]\nlr = 0.01\n"
                                                   "[axes]\n\"model.head\" = [\"sphere\", \"torusN\"]\n\"loss.koleo\" = [0, 0.001, 1]\n"
                                                   "[eval]\nquant_modes = [\"none\", \"8bit\"]\n");
  const GridSpec grid = read_grid_file(path);
  CHECK(grid.base_config == base);
  CHECK(grid.quant_modes == std::vector<std::string>{"none", "8bit"});
  const std::vector<Cell> cells = expand_cells(grid);
  REQUIRE(cells.size() == 6);
  CHECK(cells[0].name == "head-sphere_koleo-0");
  CHECK(cells[1].name == "head-sphere_koleo-0.001");
  CHECK(cells[5].name == "head-torusN_koleo-1");
  CHECK(cells[1].config.koleo == 0.001);
  CHECK(cells[5].config.head == "torusN");
  CHECK(cells[5].config.epochs == 3);  // from base_config
  CHECK(cells[5].config.dim == 8);     // from [base]
  CHECK(cells[5].config.lr == 0.01);   // [base.optim] is the same table as dotted keys
}

TEST_CASE("no axes: one cell, the base", "[sweep]") {
  const std::vector<Cell> cells = expand_cells(read_grid_file(write_grid("plain.toml", "[base]\ntrain.epochs = 1\n")));
  REQUIRE(cells.size() == 1);
  CHECK(cells[0].name == "base");
}

TEST_CASE("bad grid files name the file, the line and the key", "[sweep]") {
  const auto check_error = [](const std::string& name, const std::string& text, const std::vector<std::string>& fragments) {
    const std::string path = write_grid(name, text);
    const std::string message = error_of(path);
    INFO(message);
    CHECK(message.find(path) != std::string::npos);
    for (const std::string& f : fragments) CHECK(message.find(f) != std::string::npos);
  };
  check_error("unknown.toml", "[axes]\n\"model.haed\" = [\"sphere\"]\n", {":2:", "model.haed", "did you mean model.head"});
  check_error("empty.toml", "[axes]\n\"loss.koleo\" = []\n", {"loss.koleo", "empty axis"});
  check_error("type.toml", "[axes]\n\"model.dim\" = [\"16\"]\n", {"model.dim", "expected an integer, got a string"});
  check_error("range.toml", "[axes]\n\"loss.koleo\" = [-1]\n", {"loss.koleo", "[0, 10000]"});
  check_error("choice.toml", "[axes]\n\"model.head\" = [\"cube\"]\n", {"model.head", "torusN"});
  check_error("twice.toml", "[axes]\n\"train.seed\" = [1, 1]\n", {"train.seed", "listed twice"});
  check_error("both.toml", "[base]\ntrain.seed = 1\n[axes]\n\"train.seed\" = [2]\n", {"train.seed", "both in [base] and in [axes]"});
  check_error("top.toml", "[axis]\n\"train.seed\" = [2]\n", {"\"axis\"", "did you mean axes"});
  check_error("mode.toml", "[eval]\nquant_modes = [\"9bit\"]\n", {"quant_modes", "8bit"});
  check_error("cell.toml", "[axes]\n\"model.head\" = [\"torusN\"]\n\"model.dim\" = [3]\n", {"cell head-torusN_dim-3", "even D"});
  check_error("toml.toml", "[axes\n", {"not valid TOML"});
}

TEST_CASE("the KoLeo axis is log10, with 0 one decade left of the smallest weight", "[sweep]") {
  CHECK(koleo_position(1, 0.001) == Approx(0));
  CHECK(koleo_position(0.1, 0.001) == Approx(-1));
  CHECK(koleo_position(0.001, 0.001) == Approx(-3));
  CHECK(koleo_position(0, 0.001) == Approx(-4));
  CHECK(koleo_position(0, 0) == 0);  // no positive weight: 0 alone
}
