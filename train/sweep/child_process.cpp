#include "train/sweep/child_process.hpp"

#include <chrono>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace torus::sweep {

namespace fs = std::filesystem;

ChildResult run_child(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) throw std::runtime_error(argv[0] + ": cannot start: " + std::strerror(err));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error(argv[0] + ": waitpid: " + std::strerror(errno));
  ChildResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // posix_spawn reports a failed exec as exit status 127 from the child.
  if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

std::string find_sibling_tool(const std::string& name) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("/proc/self/exe: cannot find where torus-sweep runs from: " + ec.message());
  const fs::path dir = self.parent_path();
  // Beside us first; then the build tree's layout, should a binary ever be declared in its own
  // folder's meson.build (build/train/eval/, build/train/tools/) while torus-sweep is in another.
  const std::vector<fs::path> candidates = {dir / name, dir.parent_path() / name, dir / "eval" / name,
                                            dir.parent_path() / "train" / name, dir.parent_path() / "eval" / name};
  std::string looked;
  for (const fs::path& p : candidates) {
    if (fs::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0) return p.lexically_normal().string();
    looked += (looked.empty() ? "" : ", ") + p.lexically_normal().string();
  }
  throw std::runtime_error(name + " not found beside torus-sweep (looked at " + looked + "); build it with the other binaries");
}

std::string last_line_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff tail = std::min<std::streamoff>(size, 4096);
  in.seekg(size - tail);
  std::string text(size_t(tail), '\0');
  in.read(text.data(), tail);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  const size_t start = text.find_last_of("\n\r");
  std::string line = start == std::string::npos ? text : text.substr(start + 1);
  if (line.size() > 500) line = line.substr(line.size() - 500);
  return line;
}

}  // namespace torus::sweep
