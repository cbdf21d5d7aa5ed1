// One process's part of a batch in data-parallel training: rank r of R takes a contiguous block
// of the global batch, in rank order, the first items % R ranks one item more (96 over 3: 32
// each; 10 over 3: 4, 3, 3). The loader builds only that block, and the global-batch losses put
// the blocks back in order, so R ranks see exactly the batch one process would.
#pragma once

#include <algorithm>
#include <cstdint>

namespace torus::datasets {

struct BatchPart {
  int64_t first = 0, count = 0;
};

inline BatchPart batch_part(int64_t items, int part, int parts) {
  const int64_t base = items / parts, extra = items % parts;
  return {part * base + std::min<int64_t>(part, extra), base + (part < extra ? 1 : 0)};
}

}  // namespace torus::datasets
