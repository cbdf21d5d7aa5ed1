// kill_at_sync: an LD_PRELOAD library for the crash test. It numbers the process's calls to fsync
// and rename, the points where a run's files change state on disk, and at number TORUS_KILL_AT
// sends the process SIGKILL just before the call: what an OOM kill or `kill -9` leaves at that
// point (before a temporary file's fsync, before its rename, between the rename and the folder's
// fsync, before a metrics row's fsync). With TORUS_SYNC_TRACE=FILE it appends one line per call,
// "n fsync PATH" or "n rename FROM -> TO", so the test can choose its points by what they touch.
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace {
std::atomic<long> g_calls{0};

void point(const char* op, const char* a, const char* b) {
  const long n = ++g_calls;
  if (const char* trace = std::getenv("TORUS_SYNC_TRACE")) {
    if (std::FILE* f = std::fopen(trace, "a")) {
      std::fprintf(f, "%ld %s %s%s%s\n", n, op, a, b ? " -> " : "", b ? b : "");
      std::fclose(f);
    }
  }
  if (const char* at = std::getenv("TORUS_KILL_AT"); at && std::atol(at) == n) ::kill(::getpid(), SIGKILL);
}

template <class F>
F real(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}
}  // namespace

extern "C" int fsync(int fd) {
  static const auto next = real<int (*)(int)>("fsync");
  char link[64], target[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t len = ::readlink(link, target, sizeof target - 1);
  target[len > 0 ? len : 0] = '\0';
  point("fsync", target, nullptr);
  return next(fd);
}

extern "C" int rename(const char* from, const char* to) {
  static const auto next = real<int (*)(const char*, const char*)>("rename");
  point("rename", from, to);
  return next(from, to);
}
