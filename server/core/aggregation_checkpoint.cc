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

absl::StatusOr<AggregationInputs> InputsOf(
    const server::v1::AggregationCheckpointRecord& r) {
  if (r.client_rounds_size() != r.client_ids_size() ||
      r.payload_sha256_size() != r.client_ids_size()) {
    return absl::DataLossError(
        "the checkpoint's client ids, rounds and digests differ in length");
  }
  AggregationInputs inputs;
  inputs.spec_digest = r.spec_digest();
  for (int i = 0; i < r.client_ids_size(); ++i) {
    inputs.uploads.push_back(
        {r.client_ids(i), r.client_rounds(i), r.payload_sha256(i)});
  }
  inputs.warm_start_version = r.warm_start_version();
  inputs.warm_start_sha256 = r.warm_start_sha256();
  inputs.warm_start_client_id = r.warm_start_client_id();
  return inputs;
}

}  // namespace

bool AggregationInputs::Upload::operator==(const Upload& other) const {
  return client_id == other.client_id && round == other.round &&
         payload_sha256 == other.payload_sha256;
}

bool AggregationInputs::operator==(const AggregationInputs& other) const {
  return spec_digest == other.spec_digest && uploads == other.uploads &&
         warm_start_version == other.warm_start_version &&
         warm_start_sha256 == other.warm_start_sha256 &&
         warm_start_client_id == other.warm_start_client_id;
}

std::string AggregationInputs::Describe() const {
  std::vector<std::string> described;
  for (const Upload& upload : uploads) {
    described.push_back(absl::StrCat(upload.client_id, "@", upload.round, ":",
                                     upload.payload_sha256.substr(0, 12)));
  }
  std::string start = " cold start";
  if (warm_start_version > 0) {
    start = absl::StrCat(" warm start v", warm_start_version);
  } else if (!warm_start_client_id.empty()) {
    start =
        absl::StrCat(" warm start from ", warm_start_client_id, "'s upload");
  }
  return absl::StrCat("[", absl::StrJoin(described, ", "), "]", start);
}

std::vector<std::string> AggregationInputs::ClientIds() const {
  std::vector<std::string> ids;
  for (const Upload& upload : uploads) ids.push_back(upload.client_id);
  return ids;
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
  for (const AggregationInputs::Upload& upload : inputs.uploads) {
    record.add_client_ids(upload.client_id);
    record.add_client_rounds(upload.round);
    record.add_payload_sha256(upload.payload_sha256);
  }
  record.set_warm_start_version(inputs.warm_start_version);
  record.set_warm_start_sha256(inputs.warm_start_sha256);
  record.set_warm_start_client_id(inputs.warm_start_client_id);
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
  ASSIGN_OR_RETURN(const AggregationInputs saved, InputsOf(record));
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
