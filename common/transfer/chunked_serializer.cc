#include "common/transfer/chunked_serializer.h"

#include <algorithm>
#include <climits>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/model/deterministic_bytes.h"
#include "common/transfer/background_hasher.h"
#include "common/util/status_macros.h"
#include "google/protobuf/io/zero_copy_stream.h"

namespace epgfn {
namespace {

// Hands the serializer one chunk-sized string after another and passes each
// to the hasher once the serializer has moved past it (ZeroCopyOutputStream
// guarantees a buffer is final once Next is called again).
class ChunkSink : public google::protobuf::io::ZeroCopyOutputStream {
 public:
  ChunkSink(int64_t chunk_bytes, int64_t total_bytes, BackgroundHasher* hasher)
      : chunk_bytes_(chunk_bytes), left_(total_bytes), hasher_(hasher) {}

  bool Next(void** data, int* size) override {
    if (!chunks_.empty()) hasher_->Add(chunks_.back());
    // Sized to what is left, so that only a serializer that writes more
    // than ByteSizeLong announced ever backs up.
    const int64_t length = std::max<int64_t>(1, std::min(chunk_bytes_, left_));
    left_ -= length;
    chunks_.emplace_back(static_cast<size_t>(length), '\0');
    *data = chunks_.back().data();
    *size = static_cast<int>(length);
    written_ += length;
    return true;
  }

  void BackUp(int count) override {
    chunks_.back().resize(chunks_.back().size() - count);
    written_ -= count;
  }

  int64_t ByteCount() const override { return written_; }

  // Passes the last chunk to the hasher, once the serializer is done.
  void Flush() {
    if (!chunks_.empty()) hasher_->Add(chunks_.back());
  }

  // The chunks, empty ones dropped. Only once the hasher is done with them:
  // moving a short string moves its bytes.
  std::vector<std::string> TakeChunks() && {
    std::vector<std::string> chunks;
    chunks.reserve(chunks_.size());
    for (std::string& chunk : chunks_) {
      if (!chunk.empty()) chunks.push_back(std::move(chunk));
    }
    return chunks;
  }

 private:
  const int64_t chunk_bytes_;
  int64_t left_;
  BackgroundHasher* hasher_;
  // A deque, so that the strings the hasher reads never move.
  std::deque<std::string> chunks_;
  int64_t written_ = 0;
};

}  // namespace

absl::StatusOr<ChunkedPayload> SerializeInChunks(
    const google::protobuf::MessageLite& message, int64_t chunk_bytes) {
  if (chunk_bytes < 1 || chunk_bytes > INT_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk_bytes must lie in [1, ", INT_MAX, "], got ", chunk_bytes));
  }
  ASSIGN_OR_RETURN(const size_t size, CheckedByteSize(message));
  ChunkedPayload payload;
  BackgroundHasher hasher;
  ChunkSink sink(chunk_bytes, static_cast<int64_t>(size), &hasher);
  const absl::Status written = SerializeDeterministically(message, size, &sink);
  sink.Flush();
  // Joins the hasher, which reads the sink's chunks, before any return.
  payload.sha256_hex = hasher.Digest();
  RETURN_IF_ERROR(written);
  payload.total_bytes = static_cast<int64_t>(size);
  payload.chunks = std::move(sink).TakeChunks();
  return payload;
}

}  // namespace epgfn
