// torus-train's configuration files: TOML parsing (toml++), sections, keys, types, ranges, and the
// cross-field validation. ConfigError is the documented refusal.
#include "fuzz_input.hpp"
#include "train/train_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = torus::fuzz::write_input("input.toml", data, size);
  try {
    torus::train::TrainConfig config;
    torus::train::apply_toml_file(config, path);
    torus::train::validate(config);
    (void)torus::train::to_toml(config);
  } catch (const torus::train::ConfigError&) {
  }
  return 0;
}
