#include "server/core/upload_store.h"

#include <glog/logging.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/model/model_codec.h"
#include "common/spec/spec_conversion.h"
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

// Recovery reads files this server wrote itself; the bound only guards
// against a corrupted directory.
constexpr int64_t kMaxStoredModelBytes = int64_t{4} << 30;

bool DiagnosticsFinite(const LocalDiagnostics& d) {
  return std::isfinite(d.alpha) && std::isfinite(d.beta) &&
         std::isfinite(d.log_z_estimate) && d.num_trajectories >= 0;
}

}  // namespace

absl::StatusOr<UploadStoreOptions> UploadStoreOptions::Create(
    torch::Device device, int64_t probe_walks) {
  if (probe_walks < 0 || probe_walks > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("probe_walks must lie in [0, 4096], got ", probe_walks));
  }
  UploadStoreOptions options;
  options.device = device;
  options.probe_walks = probe_walks;
  return options;
}

UploadStore::UploadStore(std::shared_ptr<const FederationConfig> config,
                         std::string directory, UploadStoreOptions options,
                         std::string probe_secret)
    : config_(std::move(config)),
      directory_(std::move(directory)),
      options_(options),
      device_(options.device),
      probe_secret_(std::move(probe_secret)) {}

absl::StatusOr<std::unique_ptr<UploadStore>> UploadStore::Create(
    std::shared_ptr<const FederationConfig> config,
    const std::string& state_dir, const UploadStoreOptions& options) {
  const std::string directory = state_dir + "/uploads";
  RETURN_IF_ERROR(MakeDirectories(directory));
  ASSIGN_OR_RETURN(std::string secret, LoadOrCreateProbeSecret(state_dir));
  std::unique_ptr<UploadStore> store(new UploadStore(
      std::move(config), directory, options, std::move(secret)));
  store->Recover();
  return store;
}

absl::StatusOr<std::unique_ptr<UploadStore>> UploadStore::Create(
    std::shared_ptr<const FederationConfig> config,
    const std::string& state_dir, torch::Device device) {
  UploadStoreOptions options;
  options.device = device;
  return Create(std::move(config), state_dir, options);
}

std::string UploadStore::ModelFileName(const std::string& client_id,
                                       int64_t round) {
  return absl::StrCat(client_id, ".r", round, ".model");
}

void UploadStore::RemoveStaleModels(const std::string& client_id,
                                    const std::string& keep) const {
  // "<id>.r<digits>.model" and the legacy "<id>.model"; a name that is
  // another member's legacy file ("<id>.r1" is a valid id) is left alone.
  const std::string prefix = client_id + ".";
  std::vector<std::filesystem::path> stale;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(directory_, error)) {
    const std::string name = entry.path().filename().string();
    if (name == keep || name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const bool per_round =
        rest.size() > 7 && rest[0] == 'r' &&
        rest.substr(rest.size() - 6) == ".model" &&
        rest.find_first_not_of("0123456789", 1) == rest.size() - 6;
    if (!per_round && rest != "model") continue;
    if (name != client_id + ".model" &&
        config_->IsClient(name.substr(0, name.size() - 6))) {
      continue;
    }
    stale.push_back(entry.path());
  }
  for (const std::filesystem::path& path : stale) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
}

uint64_t UploadStore::ProbeSeedFor(const std::string& payload_sha256) const {
  return ProbeSeed(probe_secret_, payload_sha256);
}

std::string UploadStore::RecordPath(const std::string& client_id) const {
  return absl::StrCat(directory_, "/", client_id, ".meta");
}

void UploadStore::Recover() {
  for (const std::string& client_id : config_->spec.client_ids()) {
    server::v1::UploadRecord record;
    absl::Status status = ReadTextProtoFile(RecordPath(client_id), &record);
    if (absl::IsNotFound(status)) continue;
    if (!status.ok()) {
      LOG(WARNING) << "skipping stored upload of " << client_id << ": "
                   << status;
      continue;
    }
    if (record.spec_digest() != config_->spec_digest ||
        record.client_id() != client_id) {
      LOG(WARNING) << "skipping stored upload of " << client_id
                   << ": it belongs to another federation spec";
      continue;
    }
    const std::string model_file = record.model_file().empty()
                                       ? client_id + ".model"
                                       : record.model_file();
    if (model_file.find('/') != std::string::npos) {
      LOG(WARNING) << "skipping stored upload of " << client_id
                   << ": its record names a file outside the directory";
      continue;
    }
    absl::StatusOr<std::string> payload = ReadFileToString(
        absl::StrCat(directory_, "/", model_file), kMaxStoredModelBytes);
    if (!payload.ok() || Sha256Hex(*payload) != record.payload_sha256()) {
      LOG(WARNING) << "skipping stored upload of " << client_id
                   << ": model file missing or does not match its record";
      continue;
    }
    // A crash after writing a newer round's model but before its record
    // leaves that file behind; the record decides which one counts.
    RemoveStaleModels(client_id, model_file);
    std::string reason;
    absl::StatusOr<PolicyNet> policy =
        ValidateModel(*payload, record.payload_sha256(), &reason);
    if (!policy.ok()) {
      LOG(WARNING) << "skipping stored upload of " << client_id << ": "
                   << policy.status();
      continue;
    }
    auto upload = std::make_shared<AcceptedUpload>();
    upload->client_id = client_id;
    upload->round = record.round();
    upload->base_round = record.base_round();
    upload->payload_sha256 = record.payload_sha256();
    upload->payload_bytes = static_cast<int64_t>(payload->size());
    if (record.has_diagnostics()) {
      upload->diagnostics = DiagnosticsFromProto(record.diagnostics());
    }
    upload->accepted_unix_seconds = record.accepted_unix_seconds();
    upload->policy = *policy;
    absl::MutexLock lock(&mutex_);
    accepted_[client_id] = std::move(upload);
    LOG(INFO) << "recovered upload of " << client_id << " round "
              << record.round();
  }
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

absl::StatusOr<std::shared_ptr<const AcceptedUpload>> UploadStore::Submit(
    const UploadRequest& request) {
  const std::string sha256 = Sha256Hex(request.payload);
  std::string reason;
  auto refuse = [&](absl::Status status) {
    absl::MutexLock lock(&mutex_);
    CountRefusal(refusals_, reason);
    return status;
  };
  {
    absl::MutexLock lock(&mutex_);
    absl::Status status =
        CheckHeaderLocked(request.client_id, request.spec_digest, request.round,
                          request.base_round, &sha256, &reason);
    if (!status.ok()) {
      CountRefusal(refusals_, reason);
      return status;
    }
  }
  if (request.diagnostics && !DiagnosticsFinite(*request.diagnostics)) {
    reason = kRefusedInvalidModel;
    return refuse(absl::InvalidArgumentError(
        "diagnostics must be finite with num_trajectories >= 0"));
  }
  absl::StatusOr<PolicyNet> policy =
      ValidateModel(request.payload, sha256, &reason);
  if (!policy.ok()) return refuse(policy.status());

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
  {
    // Another upload of this client may have been accepted meanwhile.
    absl::MutexLock lock(&mutex_);
    absl::Status status =
        CheckHeaderLocked(request.client_id, request.spec_digest, request.round,
                          request.base_round, &sha256, &reason);
    if (!status.ok()) {
      CountRefusal(refusals_, reason);
      return status;
    }
  }
  server::v1::UploadRecord record;
  record.set_client_id(upload->client_id);
  record.set_spec_digest(config_->spec_digest);
  record.set_round(upload->round);
  record.set_base_round(upload->base_round);
  record.set_payload_sha256(sha256);
  record.set_payload_bytes(upload->payload_bytes);
  if (upload->diagnostics) {
    *record.mutable_diagnostics() = DiagnosticsToProto(*upload->diagnostics);
  }
  record.set_accepted_unix_seconds(upload->accepted_unix_seconds);
  const std::string model_file =
      ModelFileName(request.client_id, request.round);
  record.set_model_file(model_file);
  // The new round's model beside the accepted one, then the record that
  // switches to it: a crash in between leaves the old record naming the old,
  // untouched file, so the previously accepted upload survives.
  const std::string model_path = absl::StrCat(directory_, "/", model_file);
  absl::Status written = WriteFileAtomically(model_path, request.payload);
  if (written.ok()) {
    written = WriteTextProtoFile(RecordPath(request.client_id), record);
    server::v1::UploadRecord on_disk;
    if (!written.ok() &&
        (!ReadTextProtoFile(RecordPath(request.client_id), &on_disk).ok() ||
         on_disk.model_file() != model_file)) {
      // The old record still rules; the unused file goes (recovery would
      // remove it too).
      std::error_code ignored;
      std::filesystem::remove(model_path, ignored);
    }
  }
  if (written.ok()) RemoveStaleModels(request.client_id, model_file);
  if (!written.ok()) {
    reason = kRefusedStorage;
    LOG(ERROR) << "cannot store upload of " << request.client_id << ": "
               << written;
    return refuse(absl::UnavailableError(absl::StrCat(
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
