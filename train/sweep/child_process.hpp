// The sweep's children: torus-train, torus-embed, torus-eval and torus-quant-eval, found beside the
// torus-sweep executable and started with posix_spawn from an argument vector (no shell: a value
// on an axis is never parsed as a command), stdin from /dev/null, stdout and stderr to files.
#pragma once

#include <string>
#include <vector>

namespace torus::sweep {

struct ChildResult {
  int exit_status = -1;  // when it exited
  int signal = 0;        // when a signal ended it (then exit_status is -1)
  double seconds = 0;
  bool exited() const { return signal == 0; }
};

// Runs argv[0] (a path) with argv and waits for it; its stdout and stderr are appended to the files,
// so a cell resumed by a later sweep keeps the log of the run it continues. Throws
// std::runtime_error when it cannot start.
ChildResult run_child(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path);

// The path of the torus binary `name` (torus-train ...): beside this executable (the build tree's
// build/train/ and an installed bindir both hold them all together), else in the build tree's
// other binary folders. Throws std::runtime_error naming every place looked at.
std::string find_sibling_tool(const std::string& name);

// The last non-empty line of a text file (a child's stderr: its error message), at most 500 bytes
// of it; "" when the file is missing or empty.
std::string last_line_of(const std::string& path);

}  // namespace torus::sweep
