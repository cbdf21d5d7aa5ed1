#include "train/eval/sharded_search.hpp"

#include "datasets/batch_part.hpp"
#include "geometry/code_search.hpp"
#include "nn/dist/sharded_top_k.hpp"

namespace torus::eval {

template <typename S>
std::vector<int64_t> sharded_nearest(const dist::Communicator& comm, int64_t queries, int64_t references, bool larger_is_nearer,
                                     const std::function<geometry::KnnResult<S>(int64_t first, int64_t count)>& search) {
  const datasets::BatchPart mine =
      comm.size() == 1 ? datasets::BatchPart{0, references}
                       : datasets::block_part(references, geometry::kInnerProductRefBlock, comm.rank(), comm.size());
  dist::TopK part{geometry::RowMatrix<int64_t>(queries, 0), geometry::RowMatrix<double>(queries, 0)};
  if (mine.count > 0) {
    const geometry::KnnResult<S> r = search(mine.first, mine.count);
    part.ids = r.indices.col(0).array() + mine.first;
    part.scores = r.scores.col(0).template cast<double>();
  }
  if (comm.size() == 1) return std::vector<int64_t>(part.ids.data(), part.ids.data() + part.ids.size());
  const dist::TopK merged = dist::merge_sharded_top_k(comm, part, 1, larger_is_nearer);
  return std::vector<int64_t>(merged.ids.data(), merged.ids.data() + merged.ids.size());
}

template std::vector<int64_t> sharded_nearest(const dist::Communicator&, int64_t, int64_t, bool,
                                              const std::function<geometry::KnnResult<float>(int64_t, int64_t)>&);
template std::vector<int64_t> sharded_nearest(const dist::Communicator&, int64_t, int64_t, bool,
                                              const std::function<geometry::KnnResult<std::int32_t>(int64_t, int64_t)>&);

}  // namespace torus::eval
