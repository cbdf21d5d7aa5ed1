// How every torus binary reads its command line (CLI11): --help prints the usage and exits 0;
// --version prints the version, git revision and build options and exits 0; any parse error
// (unknown flag, missing or malformed value) prints CLI11's message, for an unknown flag the
// nearest valid one, and exits 2, the status each binary documents for a bad configuration,
// instead of CLI11's own codes (105-114).
#pragma once

#include "train/build_info.hpp"
#include "train/nearest_name.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace torus::train {

inline std::string version_text(const std::string& program) {
  return program + " " TORUS_VERSION " (git " TORUS_GIT_REVISION ")\nbuild: " TORUS_BUILD_OPTIONS;
}

// Returns -1 when the caller should carry on, else the exit status to return from main.
inline int parse_command_line(CLI::App& app, int argc, char** argv) {
  app.set_version_flag("--version", version_text(app.get_name().empty() && argc > 0 ? argv[0] : app.get_name()));
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::ExtrasError& e) {
    const int status = app.exit(e) == 0 ? 0 : 2;
    std::vector<std::string> names;
    for (const CLI::Option* o : app.get_options())
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
    for (const std::string& extra : app.remaining()) {
      if (extra.rfind("--", 0) != 0) continue;
      const std::string flag = extra.substr(0, extra.find('='));
      if (const std::string near = nearest_name(flag, names); !near.empty())
        std::fprintf(stderr, "%s: did you mean %s?\n", flag.c_str(), near.c_str());
    }
    return status;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
}

}  // namespace torus::train
