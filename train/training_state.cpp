#include "train/training_state.hpp"

#include <set>

namespace torus::train {

namespace {
const std::string kEmaPrefix = "ema/";

void add_buffers(nn::io::Checkpoint& ck, nn::Module<float>& net) {
  for (const auto& [name, t] : net.buffers()) ck.tensors.emplace_back(nn::io::kBufferPrefix + name, *t);
}

// Checks that the tensors under `prefix` are exactly `expected` (names and shapes).
template <typename Named>
void check_exact(const nn::io::Checkpoint& ck, const std::string& prefix, const Named& expected,
                 const std::map<std::string, Tensor<float>>& found, const char* what) {
  for (const auto& [name, shape] : expected) {
    auto it = found.find(name);
    if (it == found.end())
      throw nn::io::MismatchError(ck.source + ": " + what + " \"" + prefix + name + "\" is missing");
    if (it->second.shape() != shape)
      throw nn::io::MismatchError(ck.source + ": " + what + " \"" + prefix + name + "\" has shape " +
                                  it->second.shape().str() + ", the model needs " + shape.str());
  }
  if (found.size() != expected.size()) {
    std::set<std::string> names;
    for (const auto& [name, shape] : expected) names.insert(name);
    for (const auto& [name, t] : found)
      if (!names.count(name))
        throw nn::io::MismatchError(ck.source + ": " + what + " \"" + prefix + name + "\" is not in the model");
  }
}

std::vector<std::pair<std::string, Shape>> shapes_of(const nn::NamedBuffers<float>& named) {
  std::vector<std::pair<std::string, Shape>> out;
  for (const auto& [name, t] : named) out.emplace_back(name, t->shape());
  return out;
}

std::vector<std::pair<std::string, Shape>> shapes_of(const nn::NamedParameters<float>& named) {
  std::vector<std::pair<std::string, Shape>> out;
  for (const auto& [name, p] : named) out.emplace_back(name, p->value.shape());
  return out;
}

Progress progress_of(const nn::io::Checkpoint& ck) { return {ck.epoch, ck.step}; }
}  // namespace

void save_last(const std::string& path, const nlohmann::json& architecture, const Progress& progress,
               nn::Module<float>& net, nn::Optimizer<float>& optimizer, const nlohmann::json& optimizer_info,
               const nn::Ema<float>* ema, uint64_t seed, const nlohmann::json& settings) {
  nn::io::Checkpoint ck;
  ck.architecture = architecture;
  ck.epoch = progress.epoch;
  ck.step = progress.step;
  ck.rng_state = "data and augmentation derive from (seed " + std::to_string(seed) + ", epoch, index)";
  ck.optimizer = optimizer_info;
  ck.settings = settings;
  ck.optimizer["steps"] = optimizer.steps();
  ck.optimizer["ema_updates"] = ema ? ema->updates() : 0;
  // How many state tensors the optimiser holds, so a checkpoint that lost one (momentum would
  // silently restart from zero) is refused on resume instead of accepted.
  ck.optimizer["state_tensors"] = optimizer.state().size();
  nn::io::add_tensors(ck, nn::io::kModelPrefix, net.parameters());
  add_buffers(ck, net);
  nn::io::add_tensors(ck, nn::io::kOptimizerPrefix, optimizer.state());
  if (ema) {
    const auto params = net.parameters();
    for (size_t i = 0; i < params.size(); ++i) ck.tensors.emplace_back(kEmaPrefix + params[i].first, ema->shadow()[i]);
  }
  nn::io::save_checkpoint(path, ck);
}

void save_best(const std::string& path, const nlohmann::json& architecture, const Progress& progress,
               nn::Module<float>& net) {
  nn::io::Checkpoint ck;
  ck.architecture = architecture;
  ck.epoch = progress.epoch;
  ck.step = progress.step;
  ck.optimizer = {{"name", "none: best weights for embedding"}};
  nn::io::add_tensors(ck, nn::io::kModelPrefix, net.parameters());
  add_buffers(ck, net);
  nn::io::save_checkpoint(path, ck);
}

Progress restore_last(const std::string& path, const nlohmann::json& architecture, nn::Module<float>& net,
                      nn::Optimizer<float>& optimizer, nn::Ema<float>* ema) {
  const nn::io::Checkpoint ck = nn::io::load_checkpoint(path, architecture);
  const auto params = net.parameters();
  const auto buffers = net.buffers();
  const auto model = nn::io::tensors_under(ck, nn::io::kModelPrefix);
  const auto bufs = nn::io::tensors_under(ck, nn::io::kBufferPrefix);
  const auto state = nn::io::tensors_under(ck, nn::io::kOptimizerPrefix);
  const auto averages = nn::io::tensors_under(ck, kEmaPrefix);
  check_exact(ck, nn::io::kModelPrefix, shapes_of(params), model, "weight");
  check_exact(ck, nn::io::kBufferPrefix, shapes_of(buffers), bufs, "buffer");
  if (ema) check_exact(ck, kEmaPrefix, shapes_of(params), averages, "EMA average");
  else if (!averages.empty()) throw nn::io::MismatchError(ck.source + ": holds EMA averages, but train.ema is 0");
  const auto steps = ck.optimizer.value("steps", int64_t(-1));
  const auto ema_updates = ck.optimizer.value("ema_updates", int64_t(-1));
  if (steps < 0 || ema_updates < 0)
    throw nn::io::FormatError(ck.source + ": optimizer header lacks \"steps\" / \"ema_updates\" (not a torus-train checkpoint)");
  // Optimiser state keys are "<parameter>.<slot>"; each must belong to a parameter of this model.
  for (const auto& [key, t] : state) {
    bool ok = false;
    for (const auto& [name, p] : params)
      if (key.size() > name.size() && key.compare(0, name.size(), name) == 0 && key[name.size()] == '.' &&
          t.shape() == p->value.shape())
        ok = true;
    if (!ok) throw nn::io::MismatchError(ck.source + ": optimiser state \"" + key + "\" fits no parameter of the model");
  }
  // Checkpoints written before the count was recorded have no "state_tensors"; they are taken as is.
  if (ck.optimizer.contains("state_tensors")) {
    const nlohmann::json& count = ck.optimizer["state_tensors"];
    if (!count.is_number_unsigned() || count.get<uint64_t>() != state.size())
      throw nn::io::FormatError(ck.source + ": optimizer header says " + count.dump() + " state tensors, the file holds " +
                                std::to_string(state.size()));
  }
  // Everything checked: assign.
  for (const auto& [name, p] : params) p->value = model.at(name);
  for (const auto& [name, t] : buffers) *t = bufs.at(name);
  optimizer.state() = state;
  optimizer.set_steps(steps);
  if (ema) {
    std::vector<Tensor<float>> shadow;
    for (const auto& [name, p] : params) shadow.push_back(averages.at(name));
    ema->restore(std::move(shadow), ema_updates);
  }
  return progress_of(ck);
}

Progress load_weights(const std::string& path, const nlohmann::json& architecture, nn::Module<float>& net) {
  const nn::io::Checkpoint ck = nn::io::load_checkpoint(path, architecture);
  const auto params = net.parameters();
  const auto buffers = net.buffers();
  const auto model = nn::io::tensors_under(ck, nn::io::kModelPrefix);
  const auto bufs = nn::io::tensors_under(ck, nn::io::kBufferPrefix);
  check_exact(ck, nn::io::kModelPrefix, shapes_of(params), model, "weight");
  check_exact(ck, nn::io::kBufferPrefix, shapes_of(buffers), bufs, "buffer");
  for (const auto& [name, p] : params) p->value = model.at(name);
  for (const auto& [name, t] : buffers) *t = bufs.at(name);
  return progress_of(ck);
}

}  // namespace torus::train
