// all_gather_rows, forward and backward, and the gather of integer labels beside it.
#include "nn/dist/all_gather.hpp"

#include <algorithm>
#include <numeric>

namespace torus::dist {

namespace {
const OpName kAllGather("all_gather", "dist");

struct AllGatherState {
  const Communicator* comm;  // outlives the tape: Session owns it for the whole run
  int64_t offset;            // this rank's first row in the gathered rows
  int64_t rows;              // n_r
  int64_t inner;             // elements per row
};

// Every rank's row count, in rank order, from one allgather that also checks that every rank's
// rows have this rank's shape after the first axis.
std::vector<int64_t> checked_row_counts(const Communicator& comm, const Shape& s) {
  if (s.rank() < 1) throw ShapeError("all_gather_rows: expected rows (n, ...), got a scalar");
  const size_t fields = size_t(kMaxRank) + 1;  // n, rank, the dimensions after the first
  std::vector<int64_t> mine(fields, 0);
  mine[0] = s[0];
  mine[1] = s.rank();
  for (int i = 1; i < s.rank(); ++i) mine[size_t(i) + 1] = s[i];
  std::vector<int64_t> all(fields * size_t(comm.size()));
  comm.allgather(std::span<const int64_t>(mine), std::span<int64_t>(all));
  std::vector<int64_t> rows(size_t(comm.size()));
  for (int r = 0; r < comm.size(); ++r) {
    const auto theirs = all.begin() + int64_t(r) * int64_t(fields);
    if (!std::equal(mine.begin() + 1, mine.end(), theirs + 1))
      throw DistError("all_gather_rows: rank " + std::to_string(r) + "'s rows do not have the shape of rank " +
                      std::to_string(comm.rank()) + "'s " + s.str() + " after the first axis");
    rows[size_t(r)] = *theirs;
  }
  return rows;
}
}  // namespace

std::vector<int64_t> gather_row_counts(const Communicator& comm, int64_t rows) { return comm.allgather_value(rows); }

template <typename T>
Var<T> all_gather_rows(const Communicator& comm, const Var<T>& x) {
  const Shape& s = x.shape();
  const std::vector<int64_t> rows = checked_row_counts(comm, s);
  int64_t inner = 1;  // elements per row
  for (int i = 1; i < s.rank(); ++i) inner *= s[i];
  std::vector<int64_t> counts(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) counts[r] = rows[r] * inner;
  AllGatherState st{&comm, 0, s[0], inner};
  for (int r = 0; r < comm.rank(); ++r) st.offset += rows[size_t(r)];
  Shape gathered = s;
  gathered[0] = std::accumulate(rows.begin(), rows.end(), int64_t{0});
  Recording<T> rec = x.tape().record(kAllGather, {x});
  rec.set_state(st);
  rec.value().resize(gathered);
  comm.allgatherv(std::span<const T>(x.value().data(), size_t(x.value().numel())), std::span<const int64_t>(counts),
                  std::span<T>(rec.value().data(), size_t(rec.value().numel())));
  return rec.backward([](Backward<T>& g) {
    // Every rank q holds its own copy L_q of the loss over the gathered rows, and every copy
    // depends on this rank's rows x_r. What the run descends is the rank average of the copies
    // (gradient averaging divides the parameter gradients by R), so
    //   d/dx_r (1/R) sum_q L_q = (1/R) sum_q dL_q/dgathered[rows of r]:
    // the upstream gradients of all R copies are summed here and the averaging supplies the 1/R.
    // Keeping only this rank's own upstream slice (the common mistake) drops the R - 1 other
    // copies, and the averaged gradient comes out 1/R of the single-process one; with per-rank
    // losses that differ (local anchors only) it is not even proportional.
    const AllGatherState st = op_state<AllGatherState>(g);
    Tensor<T>& summed = g.saved();  // (N, ...) scratch: the upstream gradient summed over ranks
    summed = g.dout();
    st.comm->allreduce_sum(std::span<T>(summed.data(), size_t(summed.numel())));
    if (!g.needs(0)) return;
    Tensor<T>& dx = g.dx(0);
    const int64_t n = st.rows * st.inner;
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(dx.data(), n) +=
        Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(summed.data() + st.offset * st.inner, n);
  });
}

std::vector<int> all_gather_labels(const Communicator& comm, const std::vector<int>& mine) {
  const std::vector<int64_t> counts = gather_row_counts(comm, int64_t(mine.size()));
  std::vector<int> all(size_t(std::accumulate(counts.begin(), counts.end(), int64_t{0})));
  comm.allgatherv(std::span<const int>(mine), std::span<const int64_t>(counts), std::span<int>(all));
  return all;
}

template Var<float> all_gather_rows(const Communicator&, const Var<float>&);
template Var<double> all_gather_rows(const Communicator&, const Var<double>&);

}  // namespace torus::dist
