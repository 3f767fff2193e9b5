#include "server/core/upload_store.h"

#include <glog/logging.h>

#include <filesystem>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/model/model_codec.h"
#include "common/spec/spec_conversion.h"
#include "common/train/local_diagnostics.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"
#include "server/core/model_probe.h"
#include "server/core/probe_secret.h"
#include "server/core/record_io.h"
#include "server/core/server_metrics.h"
#include "server/core/server_state.pb.h"

namespace epgfn {
namespace {

// The per-reason tally that GetStatus reports, mirrored in the metrics.
void CountRefusal(std::map<std::string, int64_t>& refusals,
                  const std::string& reason) {
  ++refusals[reason];
  GetServerMetrics().uploads_refused.Add({{"reason", reason}}).Increment();
}

}  // namespace

absl::Status UploadStoreOptions::Validate() const {
  if (probe_walks < 0 || probe_walks > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("probe_walks must lie in [0, 4096], got ", probe_walks));
  }
  return absl::OkStatus();
}

UploadStore::UploadStore(std::shared_ptr<const FederationConfig> config,
                         std::string directory, UploadStoreOptions options,
                         torch::Device device, std::string probe_secret)
    : config_(std::move(config)),
      directory_(std::move(directory)),
      options_(options),
      device_(device),
      probe_secret_(std::move(probe_secret)) {}

absl::StatusOr<std::unique_ptr<UploadStore>> UploadStore::Create(
    std::shared_ptr<const FederationConfig> config,
    const std::string& state_dir, const UploadStoreOptions& options,
    torch::Device device) {
  RETURN_IF_ERROR(options.Validate());
  const std::string directory = state_dir + "/uploads";
  RETURN_IF_ERROR(MakeDirectories(directory));
  ASSIGN_OR_RETURN(std::string secret, LoadOrCreateProbeSecret(state_dir));
  std::unique_ptr<UploadStore> store(new UploadStore(
      std::move(config), directory, options, device, std::move(secret)));
  store->Recover();
  return store;
}

uint64_t UploadStore::ProbeSeedFor(const std::string& payload_sha256) const {
  return ProbeSeed(probe_secret_, payload_sha256);
}

absl::Status UploadStore::CheckHeaderLocked(const std::string& client_id,
                                            const std::string& spec_digest,
                                            int64_t round, int64_t base_round,
                                            const std::string* payload_sha256,
                                            std::string* reason) const {
  if (!config_->IsClient(client_id)) {
    *reason = kRefusedUnknownClient;
    return absl::PermissionDeniedError(
        absl::StrCat("client '", client_id, "' is not a member of federation '",
                     config_->spec.name(), "'"));
  }
  if (spec_digest != config_->spec_digest) {
    *reason = kRefusedDigestMismatch;
    return absl::FailedPreconditionError(absl::StrCat(
        "spec digest '", spec_digest, "' differs from the federation's '",
        config_->spec_digest, "'; fetch the spec again (GetSpec)"));
  }
  if (round < 1 || round > kMaxUploadRound) {
    *reason = kRefusedStaleRound;
    return absl::InvalidArgumentError(absl::StrCat(
        "round must lie in [1, ", kMaxUploadRound, "], got ", round));
  }
  if (base_round < 0) {
    *reason = kRefusedBaseMismatch;
    return absl::InvalidArgumentError(absl::StrCat(
        "base_round must be >= 0 (0: a fresh model), got ", base_round));
  }
  auto it = accepted_.find(client_id);
  const int64_t accepted_round = it == accepted_.end() ? 0 : it->second->round;
  if (it == accepted_.end() || round > it->second->round) {
    if (base_round > 0 && base_round != accepted_round) {
      // The update was trained on a model the server does not hold as this
      // client's: aggregating it would double-count or drop data.
      *reason = kRefusedBaseMismatch;
      return absl::FailedPreconditionError(
          absl::StrCat("round ", round, " of client '", client_id,
                       "' is a streaming update of round ", base_round,
                       " but the client's accepted round is ", accepted_round,
                       accepted_round == 0 ? " (none)" : "",
                       "; train the update on the accepted round's model"));
    }
    return absl::OkStatus();
  }
  if (payload_sha256 != nullptr && round == it->second->round &&
      *payload_sha256 == it->second->payload_sha256) {
    *reason = kRefusedReplay;
    return absl::AlreadyExistsError(
        absl::StrCat("round ", round, " of client '", client_id,
                     "' was already accepted with these bytes"));
  }
  if (payload_sha256 == nullptr && round == it->second->round) {
    // The bytes may be an identical replay; only Submit can tell.
    return absl::OkStatus();
  }
  *reason = kRefusedStaleRound;
  return absl::FailedPreconditionError(absl::StrCat(
      "round ", round, " of client '", client_id,
      "' is not newer than its accepted round ", it->second->round));
}

absl::Status UploadStore::CheckHeader(const std::string& client_id,
                                      const std::string& spec_digest,
                                      int64_t round, int64_t base_round) {
  absl::MutexLock lock(&mutex_);
  std::string reason;
  absl::Status status = CheckHeaderLocked(client_id, spec_digest, round,
                                          base_round, nullptr, &reason);
  if (!status.ok()) CountRefusal(refusals_, reason);
  return status;
}

absl::StatusOr<PolicyNet> UploadStore::ValidateModel(
    const std::string& payload, const std::string& payload_sha256,
    std::string* reason) const {
  *reason = kRefusedInvalidModel;
  v1::ModelWeights weights;
  if (payload.empty() || !weights.ParseFromString(payload)) {
    return absl::InvalidArgumentError(
        "the payload does not parse as a ModelWeights message");
  }
  absl::StatusOr<PolicyNet> policy;
  try {
    policy = ImportModel(weights, *config_->environment, device_);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the model could not be imported: ", e.what()));
  }
  if (!policy.ok()) {
    // Whatever ImportModel's own code, the bytes are what is wrong.
    return absl::InvalidArgumentError(absl::StrCat(
        "the model does not fit the federation: ", policy.status().message()));
  }
  if ((*policy)->architecture() != config_->local_architecture) {
    return absl::InvalidArgumentError(
        absl::StrCat("the model is ", (*policy)->architecture().ToString(),
                     " but the federation's local_architecture is ",
                     config_->local_architecture.ToString()));
  }
  absl::Status finite;
  try {
    // Seeded by a server secret and the whole payload's digest: a client
    // can neither predict the probe states nor shape its model around them.
    finite =
        CheckOutputsFinite(*policy, *config_->environment,
                           ProbeSeedFor(payload_sha256), options_.probe_walks);
  } catch (const std::exception& e) {
    finite = absl::InvalidArgumentError(
        absl::StrCat("evaluating the model failed: ", e.what()));
  }
  if (!finite.ok()) {
    *reason = kRefusedNonFiniteOutputs;
    return finite;
  }
  return policy;
}

absl::Status UploadStore::Refuse(const std::string& reason,
                                 absl::Status status) {
  absl::MutexLock lock(&mutex_);
  CountRefusal(refusals_, reason);
  return status;
}

absl::Status UploadStore::CheckHeaderCounted(const UploadRequest& request,
                                             const std::string& sha256) {
  absl::MutexLock lock(&mutex_);
  std::string reason;
  absl::Status status =
      CheckHeaderLocked(request.client_id, request.spec_digest, request.round,
                        request.base_round, &sha256, &reason);
  if (!status.ok()) CountRefusal(refusals_, reason);
  return status;
}

absl::StatusOr<std::shared_ptr<const AcceptedUpload>> UploadStore::Submit(
    const UploadRequest& request) {
  const std::string sha256 = request.payload_sha256.empty()
                                 ? Sha256Hex(request.payload)
                                 : request.payload_sha256;
  RETURN_IF_ERROR(CheckHeaderCounted(request, sha256));
  if (request.diagnostics &&
      !DiagnosticsProblems(*request.diagnostics).empty()) {
    return Refuse(kRefusedInvalidModel,
                  absl::InvalidArgumentError(
                      "diagnostics must be finite with num_trajectories >= 0"));
  }
  // The durable write runs beside validation, which decides whether it is
  // ever renamed into place (a refusal removes it).
  std::unique_ptr<StagedFile> staged = StageModel(request);
  std::string reason;
  absl::StatusOr<PolicyNet> policy =
      ValidateModel(request.payload, sha256, &reason);
  if (!policy.ok()) return Refuse(reason, policy.status());

  auto upload = std::make_shared<AcceptedUpload>();
  upload->client_id = request.client_id;
  upload->round = request.round;
  upload->base_round = request.base_round;
  upload->payload_sha256 = sha256;
  upload->payload_bytes = static_cast<int64_t>(request.payload.size());
  upload->diagnostics = request.diagnostics;
  upload->accepted_unix_seconds = absl::ToUnixSeconds(absl::Now());
  upload->policy = *policy;

  absl::MutexLock commit(&commit_mutex_);
  // Another upload of this client may have been accepted meanwhile.
  RETURN_IF_ERROR(CheckHeaderCounted(request, sha256));
  if (absl::Status written = WriteUpload(*upload, *staged); !written.ok()) {
    LOG(ERROR) << "cannot store upload of " << request.client_id << ": "
               << written;
    return Refuse(
        kRefusedStorage,
        absl::UnavailableError(absl::StrCat(
            "the server could not store the upload: ", written.message())));
  }
  absl::MutexLock lock(&mutex_);
  accepted_[request.client_id] = upload;
  return std::shared_ptr<const AcceptedUpload>(upload);
}

void UploadStore::RecordRefusal(const std::string& reason) {
  absl::MutexLock lock(&mutex_);
  CountRefusal(refusals_, reason);
}

UploadMap UploadStore::Accepted() const {
  absl::ReaderMutexLock lock(&mutex_);
  return accepted_;
}

std::map<std::string, int64_t> UploadStore::RefusalCounts() const {
  absl::ReaderMutexLock lock(&mutex_);
  return refusals_;
}

}  // namespace epgfn
