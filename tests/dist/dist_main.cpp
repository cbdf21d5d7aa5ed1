// The runner of the dist tests under mpirun: every rank runs every test case in the same order
// (the collectives inside them pair up), a test case fails when it failed on any rank, and only
// rank 0 writes the TAP lines meson counts (each rank's Catch report goes to stderr). A whole run
// (no filter) ends with the op registry check of the dist library, as catch_main.cpp does for the
// others.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "dist_test_util.hpp"

#include "autodiff/gradcheck.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace torus::testing {
namespace {
const dist::Communicator* g_world = nullptr;
}
const dist::Communicator& world() { return *g_world; }
}  // namespace torus::testing

namespace {
int g_case = 0;
int64_t g_failed_cases = 0;

struct TapListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    int64_t failed = stats.totals.assertions.failed != 0 || stats.totals.testCases.failed != 0;
    torus::testing::world().allreduce_sum(std::span<int64_t>(&failed, 1));
    g_failed_cases += failed != 0;
    std::printf("%s %d - %s (%d ranks)\n", failed ? "not ok" : "ok", ++g_case, stats.testInfo.name.c_str(),
                torus::testing::world().size());
    std::fflush(stdout);
  }
};
CATCH_REGISTER_LISTENER(TapListener)
}  // namespace

int main(int argc, char** argv) {
  torus::dist::Session session(argc, argv);
  torus::testing::g_world = &session.world();
  const torus::dist::Communicator& comm = session.world();
  if (comm.rank() != 0 && !std::freopen("/dev/null", "w", stdout)) return 1;
  std::cout.rdbuf(std::cerr.rdbuf());  // Catch's console report goes to stderr; stdout is TAP
  std::printf("TAP version 13\n");
  Catch::Session catch_session;
  if (const int err = catch_session.applyCommandLine(argc, argv)) return err;
  catch_session.run();
  int registry_failed = 0;
  if (catch_session.configData().testsOrTags.empty()) {
    std::string missing;
    for (const std::string& op : torus::OpName::registry("dist"))
      if (!torus::gradcheck_coverage().count(op)) missing += (missing.empty() ? "" : ", ") + op;
    std::ifstream index_file(TORUS_OPS_INDEX);
    std::string index((std::istreambuf_iterator<char>(index_file)), std::istreambuf_iterator<char>());
    index = index.substr(0, index.find("#pragma"));
    for (const std::string& op : torus::OpName::registry("dist"))
      if (index.find(" " + op) == std::string::npos) missing += (missing.empty() ? "" : ", ") + op + " (not in ops.hpp's index)";
    registry_failed = !missing.empty();
    std::printf("%s %d - op registry: every dist primitive has a gradient check and is in ops.hpp's index\n",
                registry_failed ? "not ok" : "ok", ++g_case);
    if (registry_failed) std::fprintf(stderr, "dist primitives: %s\n", missing.c_str());
  }
  std::printf("1..%d\n", g_case);
  std::fflush(stdout);
  return (g_failed_cases || registry_failed) ? 1 : 0;
}
