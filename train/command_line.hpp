// How every torus binary reads its command line (CLI11): --help prints the usage and exits 0; any
// parse error (unknown flag, missing or malformed value) prints CLI11's message and exits 2, the
// status each binary documents for a bad configuration, instead of CLI11's own codes (105-114).
#pragma once

#include <CLI/CLI.hpp>

namespace torus::train {

// Returns -1 when the caller should carry on, else the exit status to return from main.
inline int parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
}

}  // namespace torus::train
