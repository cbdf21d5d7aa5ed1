// The suggestion for a mistyped flag or key (train/nearest_name.hpp).
#include <catch2/catch.hpp>

#include "train/nearest_name.hpp"

using torus::train::edit_distance;
using torus::train::nearest_name;

TEST_CASE("edit_distance counts a swap of neighbours as one edit", "[train][cli]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("lr", "") == 2);
  CHECK(edit_distance("momentum", "momentun") == 1);  // substitution
  CHECK(edit_distance("momentum", "momemtum") == 1);  // substitution
  CHECK(edit_distance("epochs", "epcohs") == 1);      // swap
  CHECK(edit_distance("batch", "bacth") == 1);
  CHECK(edit_distance("seed", "seeds") == 1);         // insertion
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("nearest_name suggests only what is close", "[train][cli]") {
  const std::vector<std::string> keys = {"--optim.lr", "--optim.momentum", "--optim.nesterov", "--train.epochs"};
  CHECK(nearest_name("--optim.momentun", keys) == "--optim.momentum");
  CHECK(nearest_name("--train.epcohs", keys) == "--train.epochs");
  CHECK(nearest_name("--optim.lr", keys) == "--optim.lr");
  CHECK(nearest_name("--completely-different", keys).empty());
  CHECK(nearest_name("x", {"lr"}) == "lr");  // two edits are allowed even for short names
  CHECK(nearest_name("abc", {"xyz"}).empty());
}
