#include "server/core/staged_file.h"

#include <unistd.h>

#include <utility>

#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {

StagedFile::StagedFile(std::string path, absl::string_view bytes)
    : path_(std::move(path)),
      writer_([this, bytes] { status_ = WriteAndSync(path_, bytes); }) {}

StagedFile::~StagedFile() {
  if (writer_.joinable()) writer_.join();
  if (!committed_) ::unlink(path_.c_str());
}

absl::Status StagedFile::Wait() {
  if (writer_.joinable()) writer_.join();
  return status_;
}

absl::Status StagedFile::CommitAs(const std::string& final_path) {
  RETURN_IF_ERROR(Wait());
  RETURN_IF_ERROR(RenameDurably(path_, final_path));
  committed_ = true;
  return absl::OkStatus();
}

}  // namespace epgfn
