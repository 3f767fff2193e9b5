#ifndef EPGFN_SERVER_CORE_STAGED_FILE_H_
#define EPGFN_SERVER_CORE_STAGED_FILE_H_

#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// Writes bytes to a staging file and fsyncs it on a thread of its own, so
// that the durable write overlaps whatever the caller does meanwhile (the
// upload store validates the model: session 16, the fsync of 50 MB took
// 0.05-0.06 s after validation). The file becomes visible under its final
// name only through CommitAs; otherwise it is removed when this object goes.
// A crash can leave the staging file behind; its name must be one that
// recovery removes.
class StagedFile {
 public:
  // Starts writing `bytes`, which must stay alive and unchanged until Wait
  // or CommitAs returns or this object is destroyed, to `path`.
  StagedFile(std::string path, absl::string_view bytes);
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  // Waits for the write; removes the file unless it was committed.
  ~StagedFile();

  // The write's status once it has finished (durable when OK).
  absl::Status Wait();

  // Waits, then renames the file onto `final_path` and fsyncs the
  // directory; the write's error instead when it failed.
  absl::Status CommitAs(const std::string& final_path);

 private:
  const std::string path_;
  absl::Status status_;  // written by writer_, read after joining it
  bool committed_ = false;
  // Last, so that the thread starts once the members it writes exist.
  std::thread writer_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_STAGED_FILE_H_
