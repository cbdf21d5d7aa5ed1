// The test runner shared by every test executable: Catch2 v2 with a TAP line per test case on
// stdout (meson counts those) and Catch's own report moved to stderr. Built with
// TORUS_OP_REGISTRY_CHECK="library" (for the test executable of a library that defines primitives
// and is linked whole), a run of the whole executable (no filter) ends with the registry check:
// every primitive of that library must have been through check_gradients at least once, and be
// named in the index of primitives at the top of autodiff/ops.hpp (TORUS_OPS_INDEX, its path).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "autodiff/gradcheck.hpp"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>
#include <iostream>

namespace {
int g_case = 0;

// The opening comment of ops.hpp (everything before #pragma), where the index of primitives is.
std::string index_comment(const char* path) {
  std::ifstream in(path);
  std::string text, line;
  while (std::getline(in, line) && line.rfind("#pragma", 0) != 0) text += line + "\n";
  return text;
}

// Whether `name` occurs in `text` as a whole word (so "sum" is not found in "sum_axis").
bool names(const std::string& text, const std::string& name) {
  const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
    const bool start = at == 0 || !word(text[at - 1]);
    const bool end = at + name.size() == text.size() || !word(text[at + name.size()]);
    if (start && end) return true;
  }
  return false;
}

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
#ifdef TORUS_OPS_INDEX
    const std::string index = index_comment(TORUS_OPS_INDEX);
    std::string unlisted;
    for (const std::string& op : torus::OpName::registry(TORUS_OP_REGISTRY_CHECK))
      if (!names(index, op)) unlisted += (unlisted.empty() ? "" : ", ") + op;
    const bool index_failed = index.empty() || !unlisted.empty();
    std::printf("%s %d - op index: every %s primitive is named in autodiff/ops.hpp\n", index_failed ? "not ok" : "ok", ++g_case,
                TORUS_OP_REGISTRY_CHECK);
    if (index_failed) std::fprintf(stderr, "primitives missing from the index in %s: %s\n", TORUS_OPS_INDEX, unlisted.c_str());
    registry_failed = registry_failed || index_failed;
#endif
  }
#endif
  std::printf("1..%d\n", g_case);
  return (failed || registry_failed) ? 1 : 0;
}
