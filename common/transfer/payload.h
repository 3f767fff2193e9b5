#ifndef EPGFN_COMMON_TRANSFER_PAYLOAD_H_
#define EPGFN_COMMON_TRANSFER_PAYLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/transfer/background_hasher.h"

namespace epgfn {

// Models travel as chunked byte payloads (gRPC's default message limit is
// 4 MiB and one large unary message is ~20x slower than a stream of 1-4 MiB
// chunks on loopback).
inline constexpr int64_t kMaxChunkBytes = 1 << 20;

// Views of `payload` of at most `chunk_bytes` each, in order (none for an
// empty payload).
std::vector<absl::string_view> SplitIntoChunks(
    absl::string_view payload, int64_t chunk_bytes = kMaxChunkBytes);

// Reassembles a payload announced as (`total_bytes`, `sha256_hex`) from
// chunks, refusing as early as possible what cannot be right.
class PayloadAssembler {
 public:
  // InvalidArgument when the announced size is negative or above `max_bytes`,
  // or the digest is not 64 lower-case hex characters.
  static absl::StatusOr<PayloadAssembler> Create(int64_t total_bytes,
                                                 const std::string& sha256_hex,
                                                 int64_t max_bytes);

  // InvalidArgument for an empty or oversized chunk, or one that would pass
  // the announced size.
  absl::Status Append(absl::string_view chunk);

  // The payload; DataLoss when fewer bytes than announced arrived (a
  // truncated stream) or the digest differs (a corrupted one).
  absl::StatusOr<std::string> Finish() &&;

  int64_t received_bytes() const { return static_cast<int64_t>(data_->size()); }

 private:
  PayloadAssembler(int64_t total_bytes, std::string sha256_hex)
      : total_bytes_(total_bytes),
        sha256_hex_(std::move(sha256_hex)),
        data_(std::make_unique<std::string>()),
        hasher_(std::make_unique<BackgroundHasher>()) {}

  int64_t total_bytes_;
  std::string sha256_hex_;
  // Reserved to the announced size at once and never grown past it, so the
  // bytes the hasher reads never move; held by pointer for the same reason
  // when the assembler itself is moved.
  std::unique_ptr<std::string> data_;
  // Each chunk is hashed as it is appended, on a thread of its own, while
  // the next chunks are received (session 14 hashed on the receiving
  // thread; session 16 moved it off). Held by pointer so the assembler
  // stays movable.
  std::unique_ptr<BackgroundHasher> hasher_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRANSFER_PAYLOAD_H_
