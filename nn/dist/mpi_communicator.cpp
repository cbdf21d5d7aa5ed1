// The Communicator over MPI_COMM_WORLD: the only file of the project that includes mpi.h.
// Errors inside MPI stay fatal (MPI_ERRORS_ARE_FATAL, the default): an MPI failure on one rank
// ends the whole run rather than leaving the other ranks waiting.
#include "nn/dist/mpi_world.hpp"

// The C API only: the C++ bindings (deprecated since MPI 2.2) warn under -Wextra.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace torus::dist {

namespace {

MPI_Datatype mpi_type(DataType t) {
  switch (t) {
    case DataType::f32: return MPI_FLOAT;
    case DataType::f64: return MPI_DOUBLE;
    case DataType::i32: return MPI_INT32_T;
    case DataType::i64: return MPI_INT64_T;
    case DataType::u8: return MPI_UNSIGNED_CHAR;
  }
  throw std::logic_error("mpi_type: unknown data type");
}

// MPI counts and displacements are ints: larger gathers are refused before any rank sends.
int int_count(int64_t n, const char* op) {
  if (n < 0 || n > INT_MAX)
    throw std::length_error(std::string(op) + ": " + std::to_string(n) + " elements, expected at most " +
                            std::to_string(INT_MAX) + " (MPI counts are int)");
  return int(n);
}

// Reductions and broadcasts of any length go in pieces that fit an int count.
constexpr int64_t kPiece = int64_t(1) << 30;

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void barrier() const override { MPI_Barrier(MPI_COMM_WORLD); }
  [[noreturn]] void abort(std::string_view message) const override {
    std::fprintf(stderr, "torus: rank %d of %d: %.*s\n", rank_, size_, int(message.size()), message.data());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);  // MPI_Abort does not return; this keeps [[noreturn]] true if it ever did
  }

 protected:
  void allreduce_sum_bytes(void* x, int64_t n, DataType t) const override {
    char* bytes = static_cast<char*>(x);
    for (int64_t done = 0; done < n; done += kPiece) {
      const int piece = int(std::min(kPiece, n - done));
      MPI_Allreduce(MPI_IN_PLACE, bytes + done * int64_t(element_bytes(t)), piece, mpi_type(t), MPI_SUM, MPI_COMM_WORLD);
    }
  }
  void allgather_bytes(const void* mine, int64_t n, void* all, DataType t) const override {
    const int count = int_count(n, "allgather");
    int_count(n * size_, "allgather");
    MPI_Allgather(mine, count, mpi_type(t), all, count, mpi_type(t), MPI_COMM_WORLD);
  }
  void allgatherv_bytes(const void* mine, std::span<const int64_t> counts, void* all, DataType t) const override {
    std::vector<int> c(static_cast<size_t>(size_)), displacement(static_cast<size_t>(size_));
    int64_t offset = 0;
    for (int r = 0; r < size_; ++r) {
      c[size_t(r)] = int_count(counts[size_t(r)], "allgatherv");
      displacement[size_t(r)] = int_count(offset, "allgatherv");
      offset += counts[size_t(r)];
    }
    int_count(offset, "allgatherv");
    MPI_Allgatherv(mine, c[size_t(rank_)], mpi_type(t), all, c.data(), displacement.data(), mpi_type(t), MPI_COMM_WORLD);
  }
  void broadcast_bytes(void* x, int64_t n, DataType t, int root) const override {
    if (root < 0 || root >= size_)
      throw std::invalid_argument("broadcast: root " + std::to_string(root) + " is not a rank (0 to " + std::to_string(size_ - 1) + ")");
    char* bytes = static_cast<char*>(x);
    for (int64_t done = 0; done < n; done += kPiece) {
      const int piece = int(std::min(kPiece, n - done));
      MPI_Bcast(bytes + done * int64_t(element_bytes(t)), piece, mpi_type(t), root, MPI_COMM_WORLD);
    }
  }

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace

namespace detail {

std::unique_ptr<Communicator> mpi_start(int& argc, char**& argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  if (provided < MPI_THREAD_FUNNELED) {
    std::fprintf(stderr, "torus: MPI provides thread level %d, expected at least MPI_THREAD_FUNNELED (%d)\n", provided,
                 MPI_THREAD_FUNNELED);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return std::make_unique<MpiCommunicator>();
}

void mpi_finish() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace detail

}  // namespace torus::dist
