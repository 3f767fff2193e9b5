#ifndef EPGFN_SERVER_CORE_AGGREGATION_CHECKPOINT_H_
#define EPGFN_SERVER_CORE_AGGREGATION_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/aggregate/aggregator_checkpoint.pb.h"

namespace epgfn {

// Exactly what one aggregation aggregates; a checkpoint is resumed only by an
// aggregation of the very same inputs.
struct AggregationInputs {
  struct Upload {
    std::string client_id;
    int64_t round = 0;
    std::string payload_sha256;

    bool operator==(const Upload& other) const;
  };

  std::string spec_digest;
  // In the order the aggregator takes them.
  std::vector<Upload> uploads;
  // The warm-start version and its digest; 0 and "" for a cold start. A
  // first aggregation started from a client's upload has version 0, that
  // client's id and the upload's digest.
  int64_t warm_start_version = 0;
  std::string warm_start_sha256;
  std::string warm_start_client_id;

  bool operator==(const AggregationInputs& other) const;
  // One line for logs, e.g. "[client-0@1:ab12.., client-1@1:cd34..] warm
  // start v2".
  std::string Describe() const;
  std::vector<std::string> ClientIds() const;
};

// The running aggregation's checkpoint, <state_dir>/aggregation/checkpoint.pb
// (a binary AggregationCheckpointRecord), written atomically. There is at
// most one: the server runs one aggregation at a time.
class AggregationCheckpointStore {
 public:
  // Creates the directory when missing.
  static absl::StatusOr<AggregationCheckpointStore> Create(
      const std::string& state_dir);

  absl::Status Write(const AggregationInputs& inputs,
                     const aggregate::v1::AggregatorCheckpoint& checkpoint);

  // The checkpoint of an aggregation of exactly `inputs`. NotFound when
  // there is none; FailedPrecondition, saying what differs, when the one on
  // disk belongs to other inputs (uploads changed, another spec or warm
  // start); DataLoss when it does not parse.
  absl::StatusOr<aggregate::v1::AggregatorCheckpoint> Load(
      const AggregationInputs& inputs) const;

  // Deletes the checkpoint (after publication, or when discarded); OK when
  // there is none.
  absl::Status Remove();

  const std::string& path() const { return path_; }

 private:
  explicit AggregationCheckpointStore(std::string path)
      : path_(std::move(path)) {}

  std::string path_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_AGGREGATION_CHECKPOINT_H_
