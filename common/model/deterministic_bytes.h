#ifndef EPGFN_COMMON_MODEL_DETERMINISTIC_BYTES_H_
#define EPGFN_COMMON_MODEL_DETERMINISTIC_BYTES_H_

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message_lite.h"

namespace epgfn {

// The message's wire bytes with map entries in key order. Plain
// serialization leaves map order to the hash table, so the same model (its
// environment params are a map) could give other bytes in another process:
// digests, replay detection and byte comparisons need these instead.
// InvalidArgument when the message exceeds protobuf's 2 GiB limit.
absl::StatusOr<std::string> DeterministicBytes(
    const google::protobuf::MessageLite& message);

}  // namespace epgfn

#endif  // EPGFN_COMMON_MODEL_DETERMINISTIC_BYTES_H_
