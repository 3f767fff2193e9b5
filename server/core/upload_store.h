#ifndef EPGFN_SERVER_CORE_UPLOAD_STORE_H_
#define EPGFN_SERVER_CORE_UPLOAD_STORE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/aggregate/local_model.h"
#include "common/policy/policy_net.h"
#include "server/core/federation_config.h"
#include "server/core/staged_file.h"

namespace epgfn {

// One upload whose bytes have been assembled and checked against the digest
// the client announced (the transfer layer's job).
struct UploadRequest {
  std::string client_id;
  std::string spec_digest;
  int64_t round = 0;
  // A streaming update's base: the client's accepted round it was trained
  // from (UploadHeader.base_round); 0: a fresh model.
  int64_t base_round = 0;
  // A serialized v1::ModelWeights.
  std::string payload;
  // SHA-256 (hex) of `payload` where the transfer layer has already checked
  // the bytes against it (PayloadAssembler::Finish), so that the server
  // hashes each upload once; empty: Submit computes it. Never the client's
  // announcement before that check.
  std::string payload_sha256;
  std::optional<LocalDiagnostics> diagnostics;
};

// An accepted upload, immutable once published by the store.
struct AcceptedUpload {
  std::string client_id;
  int64_t round = 0;
  int64_t base_round = 0;  // 0: a fresh model, else a streaming update's base
  std::string payload_sha256;
  int64_t payload_bytes = 0;
  std::optional<LocalDiagnostics> diagnostics;
  int64_t accepted_unix_seconds = 0;
  // Imported on the server's device; only ever read (forward passes).
  PolicyNet policy{nullptr};
};

using UploadMap = std::map<std::string, std::shared_ptr<const AcceptedUpload>>;

// Reasons under which refusals are counted (GetStatus.refused_uploads).
inline constexpr char kRefusedUnknownClient[] = "unknown_client";
inline constexpr char kRefusedIdentityMismatch[] = "identity_mismatch";
inline constexpr char kRefusedDigestMismatch[] = "digest_mismatch";
inline constexpr char kRefusedStaleRound[] = "stale_round";
inline constexpr char kRefusedReplay[] = "replay";
inline constexpr char kRefusedBaseMismatch[] = "base_round_mismatch";
inline constexpr char kRefusedInvalidModel[] = "invalid_model";
inline constexpr char kRefusedNonFiniteOutputs[] = "non_finite_outputs";
inline constexpr char kRefusedTransfer[] = "transfer_error";
inline constexpr char kRefusedStorage[] = "storage_error";

// The largest round an upload may carry. Clients count rounds up from 1, one
// per retraining; a round near INT64_MAX would leave the client no newer
// round to upload ever again.
inline constexpr int64_t kMaxUploadRound = 1000000;

struct UploadStoreOptions {
  // Uniform probe trajectories run through each upload (CheckOutputsFinite).
  // 0 checks only the raw outputs at s0: tests use it to let through a model
  // that aggregation then has to catch.
  int64_t probe_walks = 64;

  // InvalidArgument when probe_walks lies outside [0, 4096].
  absl::Status Validate() const;
};

// The latest accepted upload of each client, validated and kept under
// <state_dir>/uploads/: <client_id>.r<round>.model and <client_id>.meta, a
// textproto UploadRecord naming that model file. The record is the commit
// point: a new round's model is written beside the accepted one, which stays
// until the new record has replaced the old. A refused upload leaves memory
// and disk unchanged. The model's bytes are written to a staging file
// (<model file>.<n>.staging) while the upload is validated, and renamed to
// the model file only once it is accepted; recovery removes staging files.
class UploadStore {
 public:
  // Creates the directory and recovers uploads accepted under the same spec
  // digest by an earlier run (invalid or foreign ones are logged and
  // skipped; model files no record names are removed). Loads or creates the
  // probe secret (LoadOrCreateProbeSecret). Uploads are imported on
  // `device`.
  static absl::StatusOr<std::unique_ptr<UploadStore>> Create(
      std::shared_ptr<const FederationConfig> config,
      const std::string& state_dir, const UploadStoreOptions& options = {},
      torch::Device device = torch::kCPU);

  // Cheap checks on what an upload's header claims, so that a doomed upload
  // is refused before its bytes are received: PermissionDenied for an
  // unknown client, FailedPrecondition for another spec's digest or a round
  // not newer than the accepted one, InvalidArgument for a round outside
  // [1, kMaxUploadRound]. A streaming update (base_round > 0) of a newer
  // round must be based on the accepted round (FailedPrecondition
  // otherwise); a replay of the accepted round passes here, whatever its
  // base, so that Submit can acknowledge it.
  // Counts the refusal.
  absl::Status CheckHeader(const std::string& client_id,
                           const std::string& spec_digest, int64_t round,
                           int64_t base_round = 0);

  // The header checks again (the state may have moved on), AlreadyExists for
  // a byte-identical replay of the accepted round, InvalidArgument for a
  // payload that is not a valid model of the federation's environment and
  // local architecture or whose outputs are not finite, then persists it.
  absl::StatusOr<std::shared_ptr<const AcceptedUpload>> Submit(
      const UploadRequest& request);

  // Counts a refusal detected outside the store (transfer, identity).
  void RecordRefusal(const std::string& reason);

  UploadMap Accepted() const;
  std::map<std::string, int64_t> RefusalCounts() const;

  // The seed this server probes a payload with (ProbeSeed of the secret).
  uint64_t ProbeSeedFor(const std::string& payload_sha256) const;

 private:
  UploadStore(std::shared_ptr<const FederationConfig> config,
              std::string directory, UploadStoreOptions options,
              torch::Device device, std::string probe_secret);

  void Recover();
  // Counts a refusal for `reason` and returns `status`.
  absl::Status Refuse(const std::string& reason, absl::Status status)
      ABSL_LOCKS_EXCLUDED(mutex_);
  // The header checks of `request` (counted when they fail).
  absl::Status CheckHeaderCounted(const UploadRequest& request,
                                  const std::string& sha256)
      ABSL_LOCKS_EXCLUDED(mutex_);
  // Starts the durable write of `request`'s payload to a staging file of
  // its own (committed by WriteUpload, removed otherwise).
  std::unique_ptr<StagedFile> StageModel(const UploadRequest& request);
  // Renames the staged model file into place and then writes the record
  // that commits it; on failure the previously accepted upload stays as it
  // was.
  absl::Status WriteUpload(const AcceptedUpload& upload,
                           StagedFile& staged) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mutex_);
  // Removes the staging files a crash left behind (best effort).
  void RemoveStagingFiles() const;
  // Header checks against `accepted_` without counting.
  absl::Status CheckHeaderLocked(const std::string& client_id,
                                 const std::string& spec_digest, int64_t round,
                                 int64_t base_round,
                                 const std::string* payload_sha256,
                                 std::string* reason) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<PolicyNet> ValidateModel(const std::string& payload,
                                          const std::string& payload_sha256,
                                          std::string* reason) const;
  static std::string ModelFileName(const std::string& client_id, int64_t round);
  std::string RecordPath(const std::string& client_id) const;
  // Removes the client's model files other than `keep` (best effort).
  void RemoveStaleModels(const std::string& client_id,
                         const std::string& keep) const;

  const std::shared_ptr<const FederationConfig> config_;
  const std::string directory_;
  const UploadStoreOptions options_;
  const torch::Device device_;
  const std::string probe_secret_;
  // Numbers staging files, so that concurrent uploads never share one.
  std::atomic<int64_t> staging_sequence_{0};

  // Serializes commits (file writes + map update) so that two uploads of
  // one client cannot interleave their files.
  absl::Mutex commit_mutex_;
  mutable absl::Mutex mutex_;
  UploadMap accepted_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, int64_t> refusals_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_UPLOAD_STORE_H_
