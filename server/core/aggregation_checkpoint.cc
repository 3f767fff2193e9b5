#include "server/core/aggregation_checkpoint.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "server/core/server_state.pb.h"

namespace epgfn {
namespace {

// Weights, two Adam moments per weight and the generator: a few times a
// model's size. Anything beyond this is not a checkpoint of ours.
constexpr int64_t kMaxCheckpointBytes = int64_t{1} << 30;

AggregationInputs InputsOf(const server::v1::AggregationCheckpointRecord& r) {
  AggregationInputs inputs;
  inputs.spec_digest = r.spec_digest();
  inputs.client_ids.assign(r.client_ids().begin(), r.client_ids().end());
  inputs.client_rounds.assign(r.client_rounds().begin(),
                              r.client_rounds().end());
  inputs.payload_sha256.assign(r.payload_sha256().begin(),
                               r.payload_sha256().end());
  inputs.warm_start_version = r.warm_start_version();
  inputs.warm_start_sha256 = r.warm_start_sha256();
  return inputs;
}

}  // namespace

bool AggregationInputs::operator==(const AggregationInputs& other) const {
  return spec_digest == other.spec_digest && client_ids == other.client_ids &&
         client_rounds == other.client_rounds &&
         payload_sha256 == other.payload_sha256 &&
         warm_start_version == other.warm_start_version &&
         warm_start_sha256 == other.warm_start_sha256;
}

std::string AggregationInputs::Describe() const {
  std::vector<std::string> uploads;
  for (size_t i = 0; i < client_ids.size(); ++i) {
    uploads.push_back(absl::StrCat(
        client_ids[i], "@",
        i < client_rounds.size() ? client_rounds[i] : int64_t{-1}, ":",
        i < payload_sha256.size() ? payload_sha256[i].substr(0, 12) : ""));
  }
  return absl::StrCat("[", absl::StrJoin(uploads, ", "), "]",
                      warm_start_version > 0
                          ? absl::StrCat(" warm start v", warm_start_version)
                          : " cold start");
}

absl::StatusOr<AggregationCheckpointStore> AggregationCheckpointStore::Create(
    const std::string& state_dir) {
  const std::string directory = absl::StrCat(state_dir, "/aggregation");
  RETURN_IF_ERROR(MakeDirectories(directory));
  return AggregationCheckpointStore(absl::StrCat(directory, "/checkpoint.pb"));
}

absl::Status AggregationCheckpointStore::Write(
    const AggregationInputs& inputs,
    const aggregate::v1::AggregatorCheckpoint& checkpoint) {
  server::v1::AggregationCheckpointRecord record;
  record.set_spec_digest(inputs.spec_digest);
  for (const std::string& id : inputs.client_ids) record.add_client_ids(id);
  for (int64_t round : inputs.client_rounds) record.add_client_rounds(round);
  for (const std::string& sha : inputs.payload_sha256) {
    record.add_payload_sha256(sha);
  }
  record.set_warm_start_version(inputs.warm_start_version);
  record.set_warm_start_sha256(inputs.warm_start_sha256);
  record.set_written_unix_seconds(absl::ToUnixSeconds(absl::Now()));
  *record.mutable_aggregator() = checkpoint;
  std::string bytes;
  if (!record.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialize the aggregation checkpoint");
  }
  return WriteFileAtomically(path_, bytes);
}

absl::StatusOr<aggregate::v1::AggregatorCheckpoint>
AggregationCheckpointStore::Load(const AggregationInputs& inputs) const {
  ASSIGN_OR_RETURN(const std::string bytes,
                   ReadFileToString(path_, kMaxCheckpointBytes));
  server::v1::AggregationCheckpointRecord record;
  if (bytes.empty() || !record.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("aggregation checkpoint ", path_, " does not parse"));
  }
  const AggregationInputs saved = InputsOf(record);
  if (saved.spec_digest != inputs.spec_digest) {
    return absl::FailedPreconditionError(
        "the checkpoint belongs to another federation spec");
  }
  if (!(saved == inputs)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the checkpoint aggregates ", saved.Describe(),
                     ", the uploads now are ", inputs.Describe()));
  }
  return record.aggregator();
}

absl::Status AggregationCheckpointStore::Remove() {
  if (unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", path_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace epgfn
