#include "common/model/deterministic_bytes.h"

#include <climits>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace epgfn {

absl::StatusOr<size_t> CheckedByteSize(
    const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message of ", size, " bytes exceeds the 2 GiB protobuf limit"));
  }
  return size;
}

absl::Status SerializeDeterministically(
    const google::protobuf::MessageLite& message, size_t size,
    google::protobuf::io::ZeroCopyOutputStream* stream) {
  google::protobuf::io::CodedOutputStream coded(stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
  coded.Trim();
  const int64_t written = coded.HadError() ? -1 : stream->ByteCount();
  if (written != static_cast<int64_t>(size)) {
    return absl::InternalError(absl::StrCat(
        "serialized ", written, " bytes of a message whose size was ", size));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DeterministicBytes(
    const google::protobuf::MessageLite& message) {
  ASSIGN_OR_RETURN(const size_t size, CheckedByteSize(message));
  // Sized once: a growing string (StringOutputStream) re-copied a 50 MB
  // model's bytes as it doubled (session 16).
  std::string bytes(size, '\0');
  google::protobuf::io::ArrayOutputStream stream(bytes.data(),
                                                 static_cast<int>(size));
  RETURN_IF_ERROR(SerializeDeterministically(message, size, &stream));
  return bytes;
}

}  // namespace epgfn
