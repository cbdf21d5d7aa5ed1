// A whole module's state in one safetensors file: its parameters and its buffers (batch-norm
// running statistics) under their names. Loading checks every name and shape first and changes
// nothing unless all match, so a model is never half-loaded.
#pragma once

#include "nn/io/safetensors.hpp"

namespace torus::nn::io {

void save_module(const std::string& path, Module<float>& module, const std::map<std::string, std::string>& metadata = {});

// Returns the file's metadata; MismatchError names the first missing, unexpected or mis-shaped
// tensor.
std::map<std::string, std::string> load_module(const std::string& path, Module<float>& module);

}  // namespace torus::nn::io
