#include "server/core/record_io.h"

#include <google/protobuf/text_format.h>

#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxRecordBytes = 1 << 20;

}  // namespace

absl::Status WriteTextProtoFile(const std::string& path,
                                const google::protobuf::Message& message) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(message, &text)) {
    return absl::InternalError(absl::StrCat("cannot print ", path));
  }
  return WriteFileAtomically(path, text);
}

absl::Status ReadTextProtoFile(const std::string& path,
                               google::protobuf::Message* message) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxRecordBytes));
  if (!google::protobuf::TextFormat::ParseFromString(text, message)) {
    return absl::DataLossError(
        absl::StrCat(path, " does not parse as ", message->GetTypeName()));
  }
  return absl::OkStatus();
}

}  // namespace epgfn
