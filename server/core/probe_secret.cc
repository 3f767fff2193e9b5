#include "server/core/probe_secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"

namespace epgfn {
namespace {

constexpr size_t kSecretBytes = 32;

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::string> LoadOrCreateProbeSecret(
    const std::string& state_dir) {
  const std::string path = state_dir + "/probe_secret";
  absl::StatusOr<std::string> existing = ReadFileToString(path, 4096);
  if (existing.ok()) {
    if (existing->size() != kSecretBytes) {
      return absl::DataLossError(
          absl::StrCat(path, " holds ", existing->size(), " bytes, expected ",
                       kSecretBytes, "; remove it to make a new secret"));
    }
    ::chmod(path.c_str(), 0600);  // in case an operator loosened it
    return existing;
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();

  std::string secret(kSecretBytes, '\0');
  if (::getrandom(secret.data(), secret.size(), 0) !=
      static_cast<ssize_t>(secret.size())) {
    return Errno("cannot draw random bytes for", path);
  }
  // Written to a 0600 temporary, fsynced and renamed, so that the secret is
  // never readable by others, not even for a moment, and a crash leaves no
  // truncated secret.
  const std::string temporary = path + ".tmp";
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", temporary);
  const bool written = ::fchmod(fd, 0600) == 0 &&
                       ::write(fd, secret.data(), secret.size()) ==
                           static_cast<ssize_t>(secret.size()) &&
                       ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) {
    errno = saved_errno;
    return Errno("cannot write", temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return Errno("cannot rename into", path);
  }
  const int directory = ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (directory >= 0) {
    ::fsync(directory);
    ::close(directory);
  }
  return secret;
}

}  // namespace epgfn
