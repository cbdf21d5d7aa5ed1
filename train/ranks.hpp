// How a binary starts when it may be one rank of an mpirun or srun (nn/dist): the Session, and a
// command line parsed by every rank and agreed on, so that ranks leave together when any one of
// them cannot parse its own (mpirun's "A : B" gives ranks different command lines).
#pragma once

#include "nn/dist/communicator.hpp"
#include "train/command_line.hpp"

#include <cstdio>
#include <memory>

namespace torus::train {

// The Session, or null after printing "<program>: <why>" (a build without MPI started as one of
// several ranks); main then returns 1. It lives until main returns (MPI is finalised then).
inline std::unique_ptr<dist::Session> start_session(const char* program, int& argc, char**& argv) {
  try {
    return std::make_unique<dist::Session>(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return nullptr;
  }
}

// parse_command_line on this rank, then the first rank's outcome on every rank: -1 to carry on,
// else the status every rank returns (0 after --help or --version, 2 for a bad command line).
inline int parse_on_every_rank(CLI::App& app, int argc, char** argv, const dist::Communicator& world) {
  const int parsed = parse_command_line(app, argc, argv);
  const dist::RankFailure f = dist::first_failure(world, parsed >= 0 ? parsed + 1 : 0, "");
  return f.rank >= 0 ? f.status - 1 : -1;
}

}  // namespace torus::train
