#ifndef EPGFN_COMMON_UTIL_DIRECTORY_LOCK_H_
#define EPGFN_COMMON_UTIL_DIRECTORY_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// An exclusive claim on a state directory for the life of the process, so
// that two daemons never write one state (two servers on one --state_dir
// fork it: each overwrites the other's versions). Taken with flock(2) on
// `<dir>/LOCK`, which holds the owner's PID for the refusal message; the
// kernel drops the lock when the process dies, so a SIGKILLed owner never
// leaves a stale claim. Also refuses a directory this process cannot write
// (read-only filesystem, permissions): a probe file is written, fsynced and
// removed, so the failure shows at start rather than at the first upload.
//
// Shared by the server and the client daemons (it has no server
// dependency); candidate for common/util.
class DirectoryLock {
 public:
  // Creates `directory` (and parents) when missing. `owner` names the
  // program in messages, e.g. "epgfn_server".
  //   FAILED_PRECONDITION: another process holds the lock (names its PID),
  //                        or the directory is not writable;
  //   other codes: the directory cannot be created or opened.
  static absl::StatusOr<std::unique_ptr<DirectoryLock>> Acquire(
      const std::string& directory, absl::string_view owner);
  ~DirectoryLock();

  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  DirectoryLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_DIRECTORY_LOCK_H_
