// Modules own their parameters as named members and list them by name, so optimisers, checkpoints
// and tests address a weight as "fc1.weight", never by position.
#pragma once

#include "autodiff/tape.hpp"

#include <string>
#include <utility>
#include <vector>

namespace torus::nn {

template <typename T>
using NamedParameters = std::vector<std::pair<std::string, Parameter<T>*>>;

// Appends `inner`'s parameters to `out` with "prefix." in front of each name.
template <typename T>
void append_parameters(NamedParameters<T>& out, const std::string& prefix, const NamedParameters<T>& inner) {
  for (const auto& [name, p] : inner) out.emplace_back(prefix + "." + name, p);
}

template <typename T>
void zero_grad(const NamedParameters<T>& params) {
  for (const auto& [name, p] : params) p->zero_grad();
}

}  // namespace torus::nn
