// Internal to nn/dist (not installed): the two entry points of mpi_communicator.cpp that Session
// calls, so that communicator.cpp never includes mpi.h.
#pragma once

#include "nn/dist/communicator.hpp"

namespace torus::dist::detail {

// MPI_Init_thread (funnelled: only the main thread communicates; OpenMP threads never do) and
// MPI_COMM_WORLD as a Communicator.
std::unique_ptr<Communicator> mpi_start(int& argc, char**& argv);
void mpi_finish();

}  // namespace torus::dist::detail
