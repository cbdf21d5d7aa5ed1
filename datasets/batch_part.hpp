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

// The same split in whole blocks of `block` items (the last block may be short): a sharded search
// cuts its references where the single-process search's blocks end, so every score is computed
// exactly as there. Parts may be empty when there are fewer blocks than parts.
inline BatchPart block_part(int64_t items, int64_t block, int part, int parts) {
  const BatchPart blocks = batch_part((items + block - 1) / block, part, parts);
  const int64_t first = std::min(items, blocks.first * block);
  return {first, std::min(items, (blocks.first + blocks.count) * block) - first};
}

}  // namespace torus::datasets
