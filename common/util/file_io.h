#ifndef EPGFN_COMMON_UTIL_FILE_IO_H_
#define EPGFN_COMMON_UTIL_FILE_IO_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// Writes `bytes` to `path` so that a crash at any moment leaves either the old
// file or the complete new one: the bytes go to `path` + ".tmp", which is
// fsynced and renamed over `path`, and then the directory is fsynced.
// Concurrent writers to one path must be serialized by the caller.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view bytes);

// Writes `bytes` to `path` (created or truncated) and fsyncs it; no rename,
// so a crash midway leaves a partial `path`: for staging files that only a
// later RenameDurably makes visible under their final name.
absl::Status WriteAndSync(const std::string& path, absl::string_view bytes);

// Renames `from` onto `to` (same directory) and fsyncs the directory, so
// that the rename survives a crash.
absl::Status RenameDurably(const std::string& from, const std::string& to);

// Makes a rename in `directory` durable.
absl::Status SyncDirectory(const std::string& directory);

// The whole file. NotFound when it does not exist; DataLoss when it is larger
// than `max_bytes`.
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             int64_t max_bytes);

// Creates `path` and its missing parents (mode 0700 for new ones).
absl::Status MakeDirectories(const std::string& path);

// Creates a new directory of this process's own (mode 0700) in the system's
// temporary directory ($TMPDIR, else /tmp), named `prefix` followed by six
// random characters, and returns its path.
absl::StatusOr<std::string> MakeTemporaryDirectory(absl::string_view prefix);

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_FILE_IO_H_
