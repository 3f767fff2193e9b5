#ifndef EPGFN_COMMON_MODEL_DETERMINISTIC_BYTES_H_
#define EPGFN_COMMON_MODEL_DETERMINISTIC_BYTES_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/io/zero_copy_stream.h"
#include "google/protobuf/message_lite.h"

namespace epgfn {

// The message's wire bytes with map entries in key order. Plain
// serialization leaves map order to the hash table, so the same model (its
// environment params are a map) could give other bytes in another process:
// digests, replay detection and byte comparisons need these instead.
// InvalidArgument when the message exceeds protobuf's 2 GiB limit.
absl::StatusOr<std::string> DeterministicBytes(
    const google::protobuf::MessageLite& message);

// The two steps of DeterministicBytes, for writers into other streams (the
// upload's chunks). CheckedByteSize computes (and caches) the message's
// size, InvalidArgument beyond the 2 GiB limit; SerializeDeterministically
// then writes exactly that many bytes to `stream`, Internal when the stream
// took another count.
absl::StatusOr<size_t> CheckedByteSize(
    const google::protobuf::MessageLite& message);
absl::Status SerializeDeterministically(
    const google::protobuf::MessageLite& message, size_t size,
    google::protobuf::io::ZeroCopyOutputStream* stream);

}  // namespace epgfn

#endif  // EPGFN_COMMON_MODEL_DETERMINISTIC_BYTES_H_
