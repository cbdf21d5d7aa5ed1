// The exceptions of saving and loading. Every message starts with the path of the file, then names
// the field, what was expected and what was found, so a failed load can be diagnosed from the
// message alone. One base class lets a caller catch any of them in one place.
#pragma once

#include <stdexcept>

namespace torus::nn::io {

// Anything that went wrong reading or writing a file; thrown as is for system failures (open,
// write, fsync, rename ...), with the errno text in the message.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The bytes are not what the format says: truncated, corrupt, malformed header, bad offsets.
class FormatError : public IoError {
 public:
  using IoError::IoError;
};

// The file is well formed but does not fit what the caller expects: another architecture, or a
// tensor that is missing, unexpected or of another shape.
class MismatchError : public IoError {
 public:
  using IoError::IoError;
};

}  // namespace torus::nn::io
