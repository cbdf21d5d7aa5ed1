// A run in which one rank fails while the others wait in a collective: rank 1 (the last rank on
// fewer than two) throws inside run_or_abort, the others enter a barrier it never reaches. Every
// rank must end, non-zero, with the failing rank's message printed once (abort_test.py checks).
#include "nn/dist/communicator.hpp"

#include <cstdio>
#include <stdexcept>

int main(int argc, char** argv) {
  torus::dist::Session session(argc, argv);
  const torus::dist::Communicator& comm = session.world();
  return torus::dist::run_or_abort(comm, [&] {
    const int failing = comm.size() > 1 ? 1 : 0;
    if (comm.rank() == failing) throw std::runtime_error("cannot read data/shard-1.bin: expected 4096 bytes, found 17");
    comm.barrier();
    std::printf("rank %d passed the barrier\n", comm.rank());
    return 0;
  });
}
