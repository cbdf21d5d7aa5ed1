#include "nn/io/module_io.hpp"

#include <set>

namespace torus::nn::io {

namespace {
// (name, tensor) for every parameter value and buffer of the module, parameters first.
std::vector<std::pair<std::string, Tensor<float>*>> state_of(Module<float>& module) {
  std::vector<std::pair<std::string, Tensor<float>*>> state;
  for (const auto& [name, p] : module.parameters()) state.emplace_back(name, &p->value);
  for (const auto& [name, b] : module.buffers()) state.emplace_back(name, b);
  return state;
}
}  // namespace

void save_module(const std::string& path, Module<float>& module, const std::map<std::string, std::string>& metadata) {
  TensorRefs refs;
  for (const auto& [name, t] : state_of(module)) refs.emplace_back(name, t);
  save_safetensors(path, refs, metadata);
}

std::map<std::string, std::string> load_module(const std::string& path, Module<float>& module) {
  SafetensorsFile file = load_safetensors(path);
  const auto state = state_of(module);
  std::set<std::string> expected;
  for (const auto& [name, t] : state) {
    expected.insert(name);
    const Tensor<float>* found = file.find(name);
    if (!found) throw MismatchError(path + ": tensor '" + name + "' is missing");
    if (found->shape() != t->shape()) {
      throw MismatchError(path + ": tensor '" + name + "' has shape " + found->shape().str() + ", expected " + t->shape().str());
    }
  }
  for (const auto& [name, t] : file.tensors)
    if (!expected.count(name)) throw MismatchError(path + ": unexpected tensor '" + name + "' (not part of this model)");
  for (const auto& [name, t] : state) *t = *file.find(name);
  return file.metadata;
}

}  // namespace torus::nn::io
