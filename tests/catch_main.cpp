// The test runner shared by every test executable: Catch2 v2 with a TAP line per test case on
// stdout (meson counts those) and Catch's own report moved to stderr. Built with
// TORUS_OP_REGISTRY_CHECK="library" (for the test executable of a library that defines primitives
// and is linked whole), a run of the whole executable (no filter) ends with the registry check:
// every primitive of that library must have been through check_gradients at least once.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "autodiff/gradcheck.hpp"

#include <cstdio>
#include <iostream>

namespace {
int g_case = 0;

struct TapListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    const bool ok = stats.totals.assertions.failed == 0 && stats.totals.testCases.failed == 0;
    std::printf("%s %d - %s\n", ok ? "ok" : "not ok", ++g_case, stats.testInfo.name.c_str());
    std::fflush(stdout);
  }
};
CATCH_REGISTER_LISTENER(TapListener)
}  // namespace

int main(int argc, char** argv) {
  std::cout.rdbuf(std::cerr.rdbuf());  // Catch's console report goes to stderr; stdout is TAP
  std::printf("TAP version 13\n");
  Catch::Session session;
  if (const int err = session.applyCommandLine(argc, argv)) return err;
  const int failed = session.run();

  int registry_failed = 0;
#ifdef TORUS_OP_REGISTRY_CHECK
  if (session.configData().testsOrTags.empty()) {
    // Primitives that exist in this binary but never went through check_gradients.
    const auto& covered = torus::gradcheck_coverage();
    std::string missing;
    for (const std::string& op : torus::OpName::registry(TORUS_OP_REGISTRY_CHECK))
      if (!covered.count(op)) missing += (missing.empty() ? "" : ", ") + op;
    registry_failed = missing.empty() ? 0 : 1;
    std::printf("%s %d - op registry: every %s primitive has a gradient check\n", registry_failed ? "not ok" : "ok", ++g_case,
                TORUS_OP_REGISTRY_CHECK);
    if (registry_failed) std::fprintf(stderr, "primitives without a gradient check: %s\n", missing.c_str());
  }
#endif
  std::printf("1..%d\n", g_case);
  return (failed || registry_failed) ? 1 : 0;
}
