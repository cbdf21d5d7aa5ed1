#include "train/eval/head_modes.hpp"

#include <stdexcept>

namespace torus::eval {

const std::vector<nn::HeadMode>& all_head_modes() {
  // The enum's values are 0, 1, ... in order; the first value whose name does not parse back to
  // itself (head_mode_name's "?" past the end) ends the walk.
  static const std::vector<nn::HeadMode> modes = [] {
    std::vector<nn::HeadMode> out;
    for (int i = 0;; ++i) {
      const nn::HeadMode mode = static_cast<nn::HeadMode>(i);
      try {
        if (nn::parse_head_mode(nn::head_mode_name(mode)) != mode) break;
      } catch (const std::invalid_argument&) {
        break;
      }
      out.push_back(mode);
    }
    return out;
  }();
  return modes;
}

std::vector<std::string> head_mode_names(bool (*keep)(nn::HeadMode)) {
  std::vector<std::string> names;
  for (nn::HeadMode mode : all_head_modes())
    if (!keep || keep(mode)) names.emplace_back(nn::head_mode_name(mode));
  return names;
}

}  // namespace torus::eval
