// The head modes as lists, for command lines and configuration files that offer a choice of them.
// The list is walked from nn::HeadMode itself (nn::head_mode_name and nn::parse_head_mode), so a
// mode added to nn/head_mode.hpp appears in torus-train's model.head, torus-eval's --head and (when
// it has a table) torus-quant-eval's --head without another list to keep in step.
#pragma once

#include "nn/head_mode.hpp"

#include <string>
#include <vector>

namespace torus::eval {

// Every mode, in the enum's order.
const std::vector<nn::HeadMode>& all_head_modes();

// nn::head_mode_name of every mode for which keep(mode) holds (all of them by default).
std::vector<std::string> head_mode_names(bool (*keep)(nn::HeadMode) = nullptr);

}  // namespace torus::eval
