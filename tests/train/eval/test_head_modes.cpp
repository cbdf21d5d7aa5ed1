// The head-mode lists offered by torus-train, torus-eval and torus-quant-eval come from
// nn::HeadMode through one walk, so they cannot drift from the enum or from each other.
#include <catch2/catch.hpp>

#include "train/eval/evaluated_space.hpp"
#include "train/eval/head_modes.hpp"
#include "train/train_config.hpp"

#include <algorithm>

using namespace torus;

TEST_CASE("every head mode once, in the enum's order, named by nn::head_mode_name", "[eval][single-path]") {
  const std::vector<nn::HeadMode>& modes = eval::all_head_modes();
  REQUIRE(modes.size() == 5);
  for (size_t i = 0; i < modes.size(); ++i) {
    CHECK(static_cast<size_t>(modes[i]) == i);
    CHECK(nn::parse_head_mode(nn::head_mode_name(modes[i])) == modes[i]);
  }
  CHECK(eval::head_mode_names() == std::vector<std::string>{"none", "sphere", "torusN", "torusC", "spherization"});
  CHECK(eval::head_mode_names(eval::has_quantisation_table) == std::vector<std::string>{"sphere", "torusN", "torusC"});
}

TEST_CASE("torus-train's model.head offers exactly the walked list", "[eval][single-path]") {
  const auto& all = train::settings();
  const auto head = std::find_if(all.begin(), all.end(), [](const train::Setting& s) { return s.key == "model.head"; });
  REQUIRE(head != all.end());
  CHECK(head->choices == eval::head_mode_names());
}
