// The one door to the other ranks of a data-parallel run: rank, size, the collectives training
// needs (allreduce, allgather(v), broadcast, barrier) and stopping every rank with one message.
// Two implementations: SingleProcess (this header; every collective is the identity on one rank)
// and MPI (mpi_communicator.cpp, the only file that includes mpi.h, built with -Dmpi). Session
// picks one at start-up; nothing else in the project knows which it got.
// Every collective must be called by every rank in the same order with matching sizes; a call
// that would not fit MPI's int counts throws before any rank communicates.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace torus::dist {

// The element types that cross ranks.
enum class DataType { f32, f64, i32, i64, u8 };

template <typename T>
constexpr DataType data_type_of() {
  if constexpr (std::is_same_v<T, float>) return DataType::f32;
  else if constexpr (std::is_same_v<T, double>) return DataType::f64;
  else if constexpr (std::is_same_v<T, int32_t>) return DataType::i32;
  else if constexpr (std::is_same_v<T, int64_t>) return DataType::i64;
  else if constexpr (std::is_same_v<T, unsigned char> || std::is_same_v<T, char>) return DataType::u8;
  else static_assert(sizeof(T) == 0, "dist: elements must be float, double, int32_t, int64_t or char");
}

// Thrown when ranks disagree on what they were each given (sizes, configurations): every rank
// sees the same gathered facts, so every rank throws the same message and none hangs.
class DistError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the collectives of one kind have moved since the communicator was made: calls, the bytes
// this rank contributed (sent into the reduction or the gather) and the seconds spent inside them,
// waiting for slower ranks included. For reports of the communication share of a step.
struct Traffic {
  int64_t calls = 0, bytes = 0;
  double seconds = 0;
};
struct TrafficStats {
  Traffic allreduce, allgather, broadcast;
  double seconds() const { return allreduce.seconds + allgather.seconds + broadcast.seconds; }
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // x[i] = sum over ranks of x[i], in place on every rank.
  template <typename T>
  void allreduce_sum(std::span<T> x) const {
    const Timer timer(stats_.allreduce, int64_t(x.size_bytes()));
    allreduce_sum_bytes(x.data(), int64_t(x.size()), data_type_of<T>());
  }
  // all = every rank's `mine` (the same length on each) in rank order; all.size() = size * mine.size().
  template <typename T>
  void allgather(std::span<const T> mine, std::span<T> all) const {
    if (all.size() != mine.size() * size_t(size()))
      throw std::invalid_argument("allgather: the output holds " + std::to_string(all.size()) + " elements, expected " +
                                  std::to_string(mine.size()) + " x " + std::to_string(size()) + " ranks");
    const Timer timer(stats_.allgather, int64_t(mine.size_bytes()));
    allgather_bytes(mine.data(), int64_t(mine.size()), all.data(), data_type_of<T>());
  }
  // One value per rank, in rank order.
  template <typename T>
  std::vector<T> allgather_value(T mine) const {
    std::vector<T> all(static_cast<size_t>(size()));
    allgather(std::span<const T>(&mine, 1), std::span<T>(all));
    return all;
  }
  // all = every rank's `mine` in rank order, rank r contributing counts[r] elements (counts the
  // same on every rank, mine.size() == counts[rank()]).
  template <typename T>
  void allgatherv(std::span<const T> mine, std::span<const int64_t> counts, std::span<T> all) const {
    check_counts(int64_t(mine.size()), counts, int64_t(all.size()));
    const Timer timer(stats_.allgather, int64_t(mine.size_bytes()));
    allgatherv_bytes(mine.data(), counts, all.data(), data_type_of<T>());
  }
  // Rank `root`'s x replaces x on every rank (the same length on each).
  template <typename T>
  void broadcast(std::span<T> x, int root = 0) const {
    const Timer timer(stats_.broadcast, rank() == root ? int64_t(x.size_bytes()) : 0);
    broadcast_bytes(x.data(), int64_t(x.size()), data_type_of<T>(), root);
  }
  virtual void barrier() const = 0;

  // Prints "torus: rank r of n: message" to stderr once (from this rank) and ends every rank of
  // the run with exit status 1: the others may be waiting in a collective and would otherwise
  // hang. Use it for a failure only this rank sees (a file it cannot read).
  [[noreturn]] virtual void abort(std::string_view message) const = 0;

  // The traffic so far (on one process: the copies a collective makes, which cost nothing).
  const TrafficStats& traffic() const { return stats_; }

 protected:
  virtual void allreduce_sum_bytes(void* x, int64_t n, DataType t) const = 0;
  virtual void allgather_bytes(const void* mine, int64_t n, void* all, DataType t) const = 0;
  virtual void allgatherv_bytes(const void* mine, std::span<const int64_t> counts, void* all, DataType t) const = 0;
  virtual void broadcast_bytes(void* x, int64_t n, DataType t, int root) const = 0;

 private:
  void check_counts(int64_t mine, std::span<const int64_t> counts, int64_t all) const;
  // Adds one call's bytes and time to a Traffic when it goes out of scope.
  class Timer {
   public:
    Timer(Traffic& t, int64_t bytes) : t_(t), bytes_(bytes), start_(std::chrono::steady_clock::now()) {}
    ~Timer() {
      ++t_.calls, t_.bytes += bytes_;
      t_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

   private:
    Traffic& t_;
    int64_t bytes_;
    std::chrono::steady_clock::time_point start_;
  };
  // Collectives are called from one thread only (MPI_THREAD_FUNNELED), so no lock.
  mutable TrafficStats stats_;
};

// One process: rank 0 of 1; reductions and gathers copy, abort prints and exits.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void barrier() const override {}
  [[noreturn]] void abort(std::string_view message) const override;

 protected:
  void allreduce_sum_bytes(void*, int64_t, DataType) const override {}
  void allgather_bytes(const void* mine, int64_t n, void* all, DataType t) const override;
  void allgatherv_bytes(const void* mine, std::span<const int64_t> counts, void* all, DataType t) const override;
  void broadcast_bytes(void*, int64_t, DataType, int root) const override;
};

// Size in bytes of one element of type t.
std::size_t element_bytes(DataType t);

// The run's communicator, made once by main(). Under a launcher that starts ranks (mpirun, srun:
// the launcher's environment says so) and with an MPI build, it initialises MPI and finalises it
// when destroyed; otherwise (a plain start, or a build without MPI) it is one SingleProcess rank,
// so a binary started alone runs exactly as it did before MPI existed. A build without MPI started
// as one of several ranks throws (std::runtime_error) rather than run N unaware copies.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  const Communicator& world() const { return *world_; }
  bool mpi() const { return mpi_; }

 private:
  std::unique_ptr<Communicator> world_;
  bool mpi_ = false;
};

// Whether this build can use MPI (-Dmpi found it).
bool built_with_mpi();
// Whether the environment says a launcher started this process as one of several ranks.
bool launched_by_mpi();

// Runs body(); an exception escaping it on any rank ends every rank through comm.abort with the
// exception's message, so a failure on one rank never leaves the others waiting. Returns body's
// status. main() wraps its work in this.
template <typename Body>
int run_or_abort(const Communicator& comm, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    if (comm.size() == 1) throw;  // one process: the caller's own error handling applies
    comm.abort(e.what());
  }
  return 1;  // not reached (abort ends the process); GCC does not trust [[noreturn]] on a virtual call
}

// Throws DistError on every rank when `text` (a configuration, a file list) is not the same on
// every rank, naming `what` and the first rank whose copy differs from rank 0's.
void require_same_on_every_rank(const Communicator& comm, std::string_view what, std::string_view text);

// The outcome of a step that may fail on some ranks and not others (reading a configuration file
// each rank has its own copy of): every rank passes its status (0: fine) and message and gets the
// lowest failing rank's, the same on every rank, so all of them can stop the same way with the same
// exit status instead of the healthy ones waiting in the next collective. Collective.
struct RankFailure {
  int rank = -1;  // -1: no rank failed
  int status = 0;
  std::string message;
};
RankFailure first_failure(const Communicator& comm, int status, std::string_view message);

}  // namespace torus::dist
