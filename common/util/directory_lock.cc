#include "common/util/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

// What the holder wrote into the lock file: its PID, or "unknown".
std::string HolderPid(int fd) {
  char buffer[32] = {};
  const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return "unknown";
  const std::string pid(absl::StripAsciiWhitespace(std::string(buffer, n)));
  return pid.empty() ? "unknown" : pid;
}

absl::Status NotWritable(const std::string& directory, absl::string_view what,
                         int error) {
  return absl::FailedPreconditionError(absl::StrCat(
      "state directory ", directory, " is not writable (", what, ": ",
      ErrnoText(error), "); give a directory on a writable filesystem"));
}

// Writes, fsyncs and removes a probe file: creating the lock file alone
// proves nothing when it already exists.
absl::Status ProbeWrite(const std::string& directory) {
  const std::string probe = absl::StrCat(directory, "/.write_probe");
  const int fd =
      open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return NotWritable(directory, "creating a file", errno);
  int error = 0;
  if (write(fd, "probe\n", 6) != 6) error = errno != 0 ? errno : EIO;
  if (error == 0 && fsync(fd) != 0) error = errno;
  close(fd);
  unlink(probe.c_str());
  if (error != 0) return NotWritable(directory, "writing a file", error);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryLock>> DirectoryLock::Acquire(
    const std::string& directory, absl::string_view owner) {
  RETURN_IF_ERROR(MakeDirectories(directory));
  const std::string path = absl::StrCat(directory, "/LOCK");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return NotWritable(directory, "opening its lock file", errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = HolderPid(fd);
    close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state directory ", directory, " is in use by another process (pid ",
          holder, ", which holds ", path, "); ", owner,
          " refuses to share it: stop that process or give another "
          "directory"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot lock ", path, ": ", ErrnoText(error)));
  }
  const std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) !=
                                   static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    close(fd);
    return NotWritable(directory, "writing its lock file", error);
  }
  if (absl::Status probe = ProbeWrite(directory); !probe.ok()) {
    close(fd);
    return probe;
  }
  return std::unique_ptr<DirectoryLock>(new DirectoryLock(path, fd));
}

// The PID stays in the file: a reader that finds the lock free ignores it.
DirectoryLock::~DirectoryLock() { close(fd_); }

}  // namespace epgfn
