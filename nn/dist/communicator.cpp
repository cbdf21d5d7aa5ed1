// The single-process communicator, the Session that chooses between it and MPI, and the checks
// every implementation shares. No MPI here: mpi_communicator.cpp is the only file that sees it.
#include "nn/dist/communicator.hpp"

#include "nn/dist/mpi_world.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace torus::dist {

std::size_t element_bytes(DataType t) {
  switch (t) {
    case DataType::f32: return 4;
    case DataType::f64: return 8;
    case DataType::i32: return 4;
    case DataType::i64: return 8;
    case DataType::u8: return 1;
  }
  throw std::logic_error("element_bytes: unknown data type");
}

void Communicator::check_counts(int64_t mine, std::span<const int64_t> counts, int64_t all) const {
  if (int64_t(counts.size()) != size())
    throw std::invalid_argument("allgatherv: " + std::to_string(counts.size()) + " counts given, expected one per rank (" +
                                std::to_string(size()) + ")");
  int64_t total = 0;
  for (int64_t c : counts) {
    if (c < 0) throw std::invalid_argument("allgatherv: a count is negative (" + std::to_string(c) + ")");
    total += c;
  }
  if (counts[size_t(rank())] != mine)
    throw std::invalid_argument("allgatherv: rank " + std::to_string(rank()) + " gives " + std::to_string(mine) +
                                " elements, its count says " + std::to_string(counts[size_t(rank())]));
  if (total != all)
    throw std::invalid_argument("allgatherv: the output holds " + std::to_string(all) + " elements, the counts sum to " +
                                std::to_string(total));
}

void SingleProcess::abort(std::string_view message) const {
  std::fprintf(stderr, "torus: %.*s\n", int(message.size()), message.data());
  std::fflush(stderr);
  std::exit(1);
}

void SingleProcess::allgather_bytes(const void* mine, int64_t n, void* all, DataType t) const {
  if (n > 0) std::memmove(all, mine, size_t(n) * element_bytes(t));
}

void SingleProcess::allgatherv_bytes(const void* mine, std::span<const int64_t> counts, void* all, DataType t) const {
  if (counts[0] > 0) std::memmove(all, mine, size_t(counts[0]) * element_bytes(t));
}

void SingleProcess::broadcast_bytes(void*, int64_t, DataType, int root) const {
  if (root != 0) throw std::invalid_argument("broadcast: root " + std::to_string(root) + " is not a rank of a 1-rank run");
}

bool launched_by_mpi() {
  // OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx (OpenMPI 4, srun --mpi=pmix) PMIX_RANK;
  // PMI-2 launchers (srun --mpi=pmi2, MPICH's hydra) PMI_SIZE.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}

bool built_with_mpi() {
#ifdef TORUS_HAVE_MPI
  return true;
#else
  return false;
#endif
}

Session::Session([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#ifdef TORUS_HAVE_MPI
  if (launched_by_mpi()) {
    world_ = detail::mpi_start(argc, argv);
    mpi_ = true;
    return;
  }
#else
  // N copies of a single-process run would each train the whole model and write the same files.
  // SLURM_STEP_NUM_TASKS, not SLURM_NTASKS: the latter is also set in an sbatch script that runs
  // one process of its own.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"}) {
    const char* ranks = std::getenv(name);
    if (ranks && std::atoi(ranks) > 1)
      throw std::runtime_error(std::string("started as one of ") + ranks + " ranks (" + name +
                               "), but this build has no MPI: rebuild with -Dmpi=enabled (needs libopenmpi-dev), "
                               "or start a single process");
  }
#endif
  world_ = std::make_unique<SingleProcess>();
}

Session::~Session() {
#ifdef TORUS_HAVE_MPI
  if (!mpi_) return;
  // Leaving by an exception that run_or_abort did not catch: the other ranks may be waiting in a
  // collective, and MPI_Finalize would wait for them forever.
  if (std::uncaught_exceptions() > 0) world_->abort("stopped by an error (its message is above, or wrap main's work in run_or_abort)");
  detail::mpi_finish();
#endif
}

void require_same_on_every_rank(const Communicator& comm, std::string_view what, std::string_view text) {
  if (comm.size() == 1) return;
  uint64_t hash = 1469598103934665603ull;  // FNV-1a: equal texts give equal hashes on every rank
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  const std::vector<int64_t> hashes = comm.allgather_value(int64_t(hash));
  const std::vector<int64_t> lengths = comm.allgather_value(int64_t(text.size()));
  for (int r = 1; r < comm.size(); ++r)
    if (hashes[size_t(r)] != hashes[0] || lengths[size_t(r)] != lengths[0])
      throw DistError(std::string(what) + " differs between ranks: rank " + std::to_string(r) +
                      "'s is not rank 0's (every rank must be started with the same " + std::string(what) + ")");
}

RankFailure first_failure(const Communicator& comm, int status, std::string_view message) {
  RankFailure out;
  if (comm.size() == 1) {
    if (status != 0) out = {0, status, std::string(message)};
    return out;
  }
  const std::vector<int32_t> statuses = comm.allgather_value(int32_t(status));
  for (int r = 0; r < comm.size(); ++r)
    if (statuses[size_t(r)] != 0) {
      out.rank = r, out.status = statuses[size_t(r)];
      break;
    }
  if (out.rank < 0) return out;
  int64_t length = comm.rank() == out.rank ? int64_t(message.size()) : 0;
  comm.broadcast(std::span<int64_t>(&length, 1), out.rank);
  out.message.resize(size_t(length));
  if (comm.rank() == out.rank) out.message.assign(message);
  comm.broadcast(std::span<char>(out.message.data(), out.message.size()), out.rank);
  return out;
}

}  // namespace torus::dist
