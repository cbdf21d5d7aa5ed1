// The output geometries an embedding can live in (method.md 3) and their names. What each mode
// hands the contrastive loss is in contrastive_features.hpp; torusC's Clifford map in
// clifford_torus.hpp.
#pragma once

#include <string>

namespace torus::nn {

enum class HeadMode { none, sphere, torusN, torusC, spherization };

// "none", "sphere", "torusN", "torusC", "spherization"; anything else throws, listing these.
HeadMode parse_head_mode(const std::string& name);
const char* head_mode_name(HeadMode mode);

}  // namespace torus::nn
