#include "server/core/server_core.h"

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/util/event_log.h"
#include "common/util/status_macros.h"
#include "server/core/server_metrics.h"

namespace epgfn {
namespace {

// -1 rather than nothing when the latest upload reported no FCS: an earlier
// round's value would be stale.
void SetClientFcsMetric(const AcceptedUpload& upload) {
  const std::optional<double> fcs =
      upload.diagnostics ? upload.diagnostics->fcs : std::nullopt;
  GetServerMetrics()
      .client_fcs.Add({{"client", upload.client_id}})
      .Set(fcs.value_or(-1.0));
}

}  // namespace

absl::StatusOr<ServerCore::Options> ServerCore::Options::Create(
    const std::string& state_dir, torch::Device device,
    int64_t max_samples_per_request) {
  if (max_samples_per_request < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_samples_per_request must be >= 1, got ", max_samples_per_request));
  }
  Options options;
  options.state_dir = state_dir;
  options.device = device;
  options.sampler.limits.max_objects_per_request = max_samples_per_request;
  RETURN_IF_ERROR(options.Validate());
  return options;
}

absl::Status ServerCore::Options::Validate() const {
  if (state_dir.empty()) {
    return absl::InvalidArgumentError("a state directory is required");
  }
  RETURN_IF_ERROR(sampler.Validate());
  RETURN_IF_ERROR(coordinator.Validate());
  RETURN_IF_ERROR(uploads.Validate());
  RETURN_IF_ERROR(models.Validate());
  return upload_limits.Validate();
}

absl::StatusOr<std::unique_ptr<ServerCore>> ServerCore::Create(
    std::shared_ptr<const FederationConfig> config, const Options& options) {
  RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<ServerCore> core(new ServerCore);
  ASSIGN_OR_RETURN(core->lock_,
                   DirectoryLock::Acquire(options.state_dir, "epgfn_server"));
  core->config_ = config;
  ASSIGN_OR_RETURN(core->uploads_,
                   UploadStore::Create(config, options.state_dir,
                                       options.uploads, options.device));
  ASSIGN_OR_RETURN(core->models_,
                   ModelStore::Create(config, options.state_dir, options.models,
                                      options.device));
  ASSIGN_OR_RETURN(core->admission_,
                   UploadAdmission::Create(options.upload_limits));
  core->state_dir_ = options.state_dir;
  core->device_ = options.device;
  core->model_options_ = options.models;
  core->coordinator_options_ = options.coordinator;
  for (const NamedAggregateConfig& aggregate : config->aggregates) {
    ASSIGN_OR_RETURN(std::unique_ptr<NamedAggregate> named,
                     core->MakeNamedAggregate(aggregate));
    absl::MutexLock lock(&core->named_mutex_);
    core->named_.push_back(std::move(named));
  }
  const ServerCore* self = core.get();
  core->sampler_ = std::make_unique<Sampler>(
      config,
      [self](const std::string& aggregate) {
        return self->FindModels(aggregate);
      },
      options.sampler);
  core->summarizer_ = std::make_unique<Summarizer>(config, core->models_.get(),
                                                   core->sampler_.get());
  CoordinatorOptions coordinator_options = options.coordinator;
  coordinator_options.checkpoint_state_dir = options.state_dir;
  core->coordinator_ = std::make_unique<Coordinator>(
      config, core->uploads_.get(), core->models_.get(), coordinator_options,
      options.device);
  // Uploads recovered from the state dir are reported as if just accepted.
  for (const auto& [client_id, upload] : core->uploads_->Accepted()) {
    SetClientFcsMetric(*upload);
  }
  GlobalVersionPtr latest = core->models_->Latest();
  GetServerMetrics().published_version.Set(
      latest == nullptr ? 0.0 : static_cast<double>(latest->version));
  RETURN_IF_ERROR(core->coordinator_->Start());
  absl::MutexLock lock(&core->named_mutex_);
  for (const auto& named : core->named_) {
    RETURN_IF_ERROR(named->coordinator->Start());
  }
  return core;
}

absl::StatusOr<std::unique_ptr<ServerCore::NamedAggregate>>
ServerCore::MakeNamedAggregate(const NamedAggregateConfig& aggregate) const {
  // Its own folder: versions, records and checkpoint as the default's.
  const std::string directory =
      absl::StrCat(state_dir_, "/aggregates/", aggregate.name);
  ModelStoreOptions model_options = model_options_;
  model_options.aggregate = aggregate;
  auto named = std::make_unique<NamedAggregate>();
  named->config = aggregate;
  ASSIGN_OR_RETURN(named->models, ModelStore::Create(config_, directory,
                                                     model_options, device_));
  CoordinatorOptions coordinator_options = coordinator_options_;
  coordinator_options.checkpoint_state_dir = directory;
  coordinator_options.aggregate = aggregate;
  named->coordinator = std::make_unique<Coordinator>(
      config_, uploads_.get(), named->models.get(), coordinator_options,
      device_);
  return named;
}

NamedAggregateStatus ServerCore::StatusOf(const NamedAggregate& named) const {
  NamedAggregateStatus status;
  status.name = named.config.name;
  status.weights = named.config.weights;
  status.aggregation = named.coordinator->state();
  GlobalVersionPtr latest = named.models->Latest();
  status.current_version = latest == nullptr ? 0 : latest->version;
  return status;
}

absl::StatusOr<NamedAggregateStatus> ServerCore::AddNamedAggregate(
    const v1::NamedAggregate& aggregate, const std::string& caller) {
  // One at a time, so that two requests cannot both take a name.
  absl::MutexLock lock(&named_mutex_);
  if (models_->closed()) {
    return absl::UnavailableError("the server is shutting down");
  }
  std::vector<std::string> taken;
  for (const auto& named : named_) taken.push_back(named->config.name);
  ASSIGN_OR_RETURN(
      NamedAggregateConfig validated,
      ValidateNamedAggregate(aggregate, *config_, taken, "aggregate"));
  ASSIGN_OR_RETURN(std::unique_ptr<NamedAggregate> named,
                   MakeNamedAggregate(validated));
  RETURN_IF_ERROR(named->coordinator->Start());
  LOG(INFO) << Event("aggregate_created")
                   .With("federation", config_->spec.name())
                   .With("aggregate", validated.name)
                   .With("by", caller)
                   .With("clients", absl::StrJoin(validated.Members(), ","));
  named_.push_back(std::move(named));
  return StatusOf(*named_.back());
}

absl::StatusOr<const ModelStore*> ServerCore::FindModels(
    const std::string& aggregate) const {
  if (IsDefaultAggregateName(aggregate)) return models_.get();
  std::vector<std::string> known = {kDefaultAggregateName};
  absl::ReaderMutexLock lock(&named_mutex_);
  for (const auto& named : named_) {
    if (named->config.name == aggregate) return named->models.get();
    known.push_back(named->config.name);
  }
  return absl::NotFoundError(
      absl::StrCat("no aggregate named '", aggregate,
                   "' (known: ", absl::StrJoin(known, ", "), ")"));
}

ServerCore::~ServerCore() { BeginShutdown(); }

absl::Status ServerCore::CheckUploadHeader(const std::string& client_id,
                                           const std::string& spec_digest,
                                           int64_t round, int64_t base_round) {
  absl::Status status =
      uploads_->CheckHeader(client_id, spec_digest, round, base_round);
  if (!status.ok()) {
    LOG(WARNING) << Event("upload_refused")
                        .With("federation", config_->spec.name())
                        .With("client", client_id)
                        .With("round", round)
                        .With("base_round", base_round)
                        .WithStatus(status);
  }
  return status;
}

absl::StatusOr<std::shared_ptr<const AcceptedUpload>> ServerCore::SubmitUpload(
    const UploadRequest& request) {
  absl::StatusOr<std::shared_ptr<const AcceptedUpload>> accepted =
      uploads_->Submit(request);
  if (!accepted.ok()) {
    LOG(WARNING) << Event("upload_refused")
                        .With("federation", config_->spec.name())
                        .With("client", request.client_id)
                        .With("round", request.round)
                        .WithStatus(accepted.status());
    return accepted;
  }
  LOG(INFO) << Event("upload_accepted")
                   .With("federation", config_->spec.name())
                   .With("client", request.client_id)
                   .With("round", request.round)
                   .With("bytes", (*accepted)->payload_bytes)
                   .With("sha256", (*accepted)->payload_sha256);
  GetServerMetrics()
      .uploads_accepted.Add({{"client", request.client_id}})
      .Increment();
  SetClientFcsMetric(**accepted);
  coordinator_->NotifyUploadAccepted();
  absl::ReaderMutexLock lock(&named_mutex_);
  for (const auto& named : named_) {
    // Only the aggregates this client belongs to act on it.
    if (named->config.WeightOf(request.client_id) > 0.0) {
      named->coordinator->NotifyUploadAccepted();
    }
  }
  return accepted;
}

void ServerCore::RecordRefusedUpload(const std::string& client_id,
                                     const std::string& reason,
                                     const absl::Status& status) {
  uploads_->RecordRefusal(reason);
  LOG(WARNING) << Event("upload_refused")
                      .With("federation", config_->spec.name())
                      .With("client", client_id)
                      .With("reason", reason)
                      .WithStatus(status);
}

FederationStatus ServerCore::Status() const {
  FederationStatus status;
  status.federation = config_->spec.name();
  status.spec_digest = config_->spec_digest;
  const UploadMap accepted = uploads_->Accepted();
  const std::map<std::string, ExcludedUpload> poisoned_uploads =
      coordinator_->PoisonedUploads();
  for (const std::string& client_id : config_->spec.client_ids()) {
    ClientState client;
    client.client_id = client_id;
    auto it = accepted.find(client_id);
    if (it != accepted.end()) {
      client.accepted_round = it->second->round;
      client.diagnostics = it->second->diagnostics;
      if (std::optional<std::string> reason =
              ExclusionReason(client.diagnostics, config_->exclusion)) {
        client.excluded = true;
        client.exclusion_reason = *std::move(reason);
      } else if (auto poisoned = poisoned_uploads.find(client_id);
                 poisoned != poisoned_uploads.end() &&
                 poisoned->second.round == client.accepted_round) {
        client.excluded = true;
        client.exclusion_reason = poisoned->second.reason;
      }
    }
    status.clients.push_back(std::move(client));
  }
  status.aggregation = coordinator_->state();
  GlobalVersionPtr latest = models_->Latest();
  status.current_version = latest == nullptr ? 0 : latest->version;
  status.refused_uploads = uploads_->RefusalCounts();
  absl::ReaderMutexLock lock(&named_mutex_);
  for (const auto& named : named_)
    status.aggregates.push_back(StatusOf(*named));
  return status;
}

void ServerCore::BeginShutdown() {
  if (models_) models_->Close();
  // Held while the coordinators stop (their threads never take it), so that
  // no aggregate is added meanwhile.
  absl::MutexLock lock(&named_mutex_);
  for (const auto& named : named_) named->models->Close();
  if (coordinator_) coordinator_->Shutdown();
  for (const auto& named : named_) named->coordinator->Shutdown();
}

}  // namespace epgfn
