#include "server/core/coordinator.h"

#include <glog/logging.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/util/status_macros.h"
#include "server/core/model_probe.h"
#include "server/core/server_metrics.h"

namespace epgfn {
namespace {

std::map<std::string, int64_t> RoundsOf(const UploadMap& uploads) {
  std::map<std::string, int64_t> rounds;
  for (const auto& [client_id, upload] : uploads)
    rounds[client_id] = upload->round;
  return rounds;
}

// The accepted uploads of `aggregate`'s clients with a positive weight.
UploadMap MembersOnly(const UploadMap& uploads,
                      const NamedAggregateConfig& aggregate) {
  UploadMap members;
  for (const auto& [client_id, upload] : uploads) {
    if (aggregate.WeightOf(client_id) > 0.0) members[client_id] = upload;
  }
  return members;
}

// Client id -> round of each upload a published version aggregated.
std::map<std::string, int64_t> AggregatedRounds(const GlobalVersion& version) {
  std::map<std::string, int64_t> rounds;
  for (const IncludedUpload& upload : version.included) {
    rounds[upload.client_id] = upload.round;
  }
  return rounds;
}

}  // namespace

FcsOptions DefaultServerFcsOptions() {
  FcsOptions options;
  options.num_samples = 512;
  options.num_backward_samples = kDaemonFcsBackwardSamples;
  options.subset_size = 8;
  options.num_subsets = 256;
  return options;
}

absl::Status CoordinatorOptions::Validate() const {
  RETURN_IF_ERROR(
      ValidateFcsToLocalProduct(fcs_to_local_product, fcs_progress_samples));
  RETURN_IF_ERROR(stopping.Validate());
  if (progress_every < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("progress_every must be >= 1, got ", progress_every));
  }
  if (checkpoint_every_iterations < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint_every_iterations must be >= 0, got ",
                     checkpoint_every_iterations));
  }
  if (settle_window < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("settle_window must be >= 0, got ",
                     absl::FormatDuration(settle_window)));
  }
  if (checkpoint_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint_interval must be >= 0, got ",
                     absl::FormatDuration(checkpoint_interval)));
  }
  if (first_aggregation_warm_start == AggregationWarmStart::kAverage) {
    return absl::InvalidArgumentError(
        "the first aggregation cannot start from the average of the uploaded "
        "models: the server cannot know that the clients started from one "
        "initialisation, and the average of models that did not is no model; "
        "use 'none' or 'client'");
  }
  return absl::OkStatus();
}

Coordinator::Coordinator(std::shared_ptr<const FederationConfig> config,
                         UploadStore* uploads, ModelStore* models,
                         CoordinatorOptions options, torch::Device device)
    : config_(std::move(config)),
      uploads_(uploads),
      models_(models),
      options_(options),
      device_(device) {}

Coordinator::~Coordinator() { Shutdown(); }

absl::Time Coordinator::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

std::map<std::string, ExcludedUpload> Coordinator::PoisonedUploads() const {
  absl::ReaderMutexLock lock(&mutex_);
  return poisoned_;
}

std::vector<ExcludedUpload> Coordinator::FindPoisonedUploads(
    const UploadSelection& selection) const {
  std::vector<ExcludedUpload> poisoned;
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (const auto& [client_id, upload] : selection.included) {
    // The upload's policy is shared read-only; a forward pass does not
    // change it.
    PolicyNet policy = upload->policy;
    absl::Status probe;
    try {
      probe = CheckOutputsFinite(policy, *config_->environment, ++seed,
                                 options_.blame_probe_walks);
    } catch (const std::exception& e) {
      probe = absl::InvalidArgumentError(
          absl::StrCat("evaluating the model failed: ", e.what()));
    }
    if (!probe.ok()) {
      poisoned.push_back(ExcludedUpload{
          client_id, upload->round,
          absl::StrCat("aggregation went non-finite on this upload: ",
                       probe.message())});
    }
  }
  return poisoned;
}

absl::Status CoordinatorOptions::ValidateFor(
    const FederationConfig& config) const {
  RETURN_IF_ERROR(Validate());
  if (first_aggregation_warm_start == AggregationWarmStart::kClient &&
      config.local_architecture != config.global_architecture) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the first aggregation cannot start from a client's model: the "
        "federation's local architecture (",
        config.local_architecture.ToString(),
        ") differs from its global architecture (",
        config.global_architecture.ToString(), ")"));
  }
  return absl::OkStatus();
}

absl::Status Coordinator::Start() {
  RETURN_IF_ERROR(options_.ValidateFor(*config_));
  if (!options_.checkpoint_state_dir.empty()) {
    ASSIGN_OR_RETURN(checkpoints_, AggregationCheckpointStore::Create(
                                       options_.checkpoint_state_dir));
  }
  {
    absl::MutexLock lock(&mutex_);
    round_opened_ = Now();
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

Event Coordinator::Tagged(absl::string_view name) const {
  Event event(name);
  event.With("federation", config_->spec.name());
  if (options_.aggregate) event.With("aggregate", options_.aggregate->name);
  return event;
}

bool Coordinator::Stopping() const {
  absl::ReaderMutexLock lock(&mutex_);
  return stop_;
}

void Coordinator::Shutdown() {
  {
    absl::MutexLock lock(&mutex_);
    stop_ = true;
    wake_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Coordinator::NotifyUploadAccepted() {
  const absl::Time now = Now();
  absl::MutexLock lock(&mutex_);
  last_upload_ = now;
  wake_ = true;
}

AggregationState Coordinator::state() const {
  absl::ReaderMutexLock lock(&mutex_);
  return state_;
}

void Coordinator::SetPhase(AggregationPhase phase) {
  DCHECK(IsAllowedTransition(state_.phase, phase))
      << AggregationPhaseName(state_.phase) << " -> "
      << AggregationPhaseName(phase);
  state_.phase = phase;
}

void Coordinator::Loop() {
  while (std::optional<PendingAggregation> pending = WaitForAggregation()) {
    if (is_default()) GetServerMetrics().aggregation_running.Set(1);
    const absl::Status status = RunGuarded(*pending);
    FinishAggregation(*pending, status);
  }
}

UploadSelection Coordinator::SelectCurrentUploads(const UploadMap& uploads) {
  UploadSelection selection = SelectUploads(uploads, config_->exclusion);
  // Uploads that made an aggregation non-finite stay out until their client
  // uploads a newer round.
  for (auto it = poisoned_.begin(); it != poisoned_.end();) {
    auto upload = uploads.find(it->first);
    if (upload == uploads.end() || upload->second->round != it->second.round) {
      it = poisoned_.erase(it);
      continue;
    }
    if (selection.included.erase(it->first) > 0) {
      selection.excluded.push_back(it->second);
    }
    ++it;
  }
  std::sort(selection.excluded.begin(), selection.excluded.end(),
            [](const ExcludedUpload& a, const ExcludedUpload& b) {
              return a.client_id < b.client_id;
            });
  return selection;
}

std::optional<Coordinator::PendingAggregation>
Coordinator::WaitForAggregation() {
  absl::MutexLock lock(&mutex_);
  while (!stop_) {
    wake_ = false;
    const UploadMap uploads =
        options_.aggregate
            ? MembersOnly(uploads_->Accepted(), *options_.aggregate)
            : uploads_->Accepted();
    PendingAggregation pending;
    pending.selection = SelectCurrentUploads(uploads);
    pending.rounds = RoundsOf(pending.selection.included);
    pending.latest = models_->Latest();
    // A named aggregate waits for all of its clients (its own quorum is 1).
    TriggerPolicy policy;
    policy.num_clients =
        is_default() ? config_->num_clients()
                     : static_cast<int>(options_.aggregate->Members().size());
    policy.quorum = is_default() ? config_->quorum : 1;
    policy.upload_deadline_seconds = config_->upload_deadline_seconds;
    policy.settle_window = options_.settle_window;
    TriggerState trigger;
    trigger.included_rounds = pending.rounds;
    trigger.num_uploaded = static_cast<int>(uploads.size());
    if (pending.latest != nullptr) {
      trigger.latest_rounds = AggregatedRounds(*pending.latest);
    }
    trigger.since_round_opened = Now() - round_opened_;
    if (last_upload_) trigger.since_last_upload = Now() - *last_upload_;
    const TriggerDecision decision = DecideAggregation(policy, trigger);
    const bool already_failed =
        !failed_rounds_.empty() && pending.rounds == failed_rounds_;
    if (decision == TriggerDecision::kAggregate && !already_failed) {
      SetPhase(AggregationPhase::kRunning);
      // A new run's counters start over; the last error stays until a newer
      // outcome replaces it.
      AggregationState fresh;
      fresh.phase = state_.phase;
      fresh.last_error = std::move(state_.last_error);
      fresh.stop_reason = state_.stop_reason;
      fresh.total_iterations = config_->aggregation.iterations;
      state_ = std::move(fresh);
      return pending;
    }
    UpdateRestingPhase(decision, already_failed, pending.selection,
                       trigger.num_uploaded, policy.num_clients);
    mutex_.AwaitWithTimeout(absl::Condition(&wake_), options_.poll_interval);
  }
  return std::nullopt;
}

void Coordinator::UpdateRestingPhase(TriggerDecision decision,
                                     bool already_failed,
                                     const UploadSelection& selection,
                                     int num_uploaded, int num_clients) {
  if (already_failed && decision == TriggerDecision::kAggregate) {
    SetPhase(AggregationPhase::kFailed);
    return;
  }
  if (!is_default() && selection.included.empty() &&
      !selection.excluded.empty() && num_uploaded >= num_clients) {
    // Nothing to aggregate and nothing more to wait for: say why.
    std::vector<std::string> reasons;
    for (const ExcludedUpload& excluded : selection.excluded) {
      reasons.push_back(absl::StrCat(excluded.client_id, ":", excluded.round,
                                     " (", excluded.reason, ")"));
    }
    const std::string why = absl::StrCat(
        "not published: every client of aggregate '", options_.aggregate->name,
        "' has its upload excluded: ", absl::StrJoin(reasons, "; "));
    if (state_.phase != AggregationPhase::kAllClientsExcluded ||
        state_.last_error != why) {
      LOG(WARNING) << Tagged("aggregate_not_published").With("reason", why);
    }
    SetPhase(AggregationPhase::kAllClientsExcluded);
    state_.last_error = why;
    return;
  }
  SetPhase(decision == TriggerDecision::kIdle
               ? AggregationPhase::kIdle
               : AggregationPhase::kWaitingForUploads);
}

absl::Status Coordinator::RunGuarded(const PendingAggregation& pending) {
  try {
    return AggregateAndPublish(pending);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("aggregation threw: ", e.what()));
  }
}

void Coordinator::FinishAggregation(const PendingAggregation& pending,
                                    const absl::Status& status) {
  std::vector<ExcludedUpload> poisoned;
  if (!status.ok() && !absl::IsCancelled(status)) {
    // Which uploads did it? (A failure that no probe explains stays a plain
    // failure.)
    poisoned = FindPoisonedUploads(pending.selection);
  }
  absl::MutexLock lock(&mutex_);
  if (is_default()) {
    GetServerMetrics().aggregation_running.Set(0);
    GetServerMetrics()
        .aggregation_runs
        .Add({{"result", status.ok()                          ? "published"
                         : absl::IsCancelled(status) && stop_ ? "abandoned"
                                                              : "failed"}})
        .Increment();
  }
  if (status.ok()) return;  // Publish() set the state.
  if (!poisoned.empty()) {
    std::vector<std::string> names;
    for (ExcludedUpload& upload : poisoned) {
      names.push_back(absl::StrCat(upload.client_id, ":", upload.round));
      poisoned_[upload.client_id] = std::move(upload);
    }
    state_.last_error = absl::StrCat(
        status.message(),
        "; excluded the uploads responsible: ", absl::StrJoin(names, ","));
    LOG(ERROR) << Tagged("aggregation_uploads_excluded")
                      .With("excluded", absl::StrJoin(names, ","))
                      .WithStatus(status);
    // The loop re-selects without them and aggregates the rest.
    return;
  }
  if (absl::IsCancelled(status) && stop_) {
    LOG(INFO) << Tagged("aggregation_stopped")
                     .With("reason", "server shutting down")
                     .With("detail", status.message());
    return;
  }
  SetPhase(AggregationPhase::kFailed);
  state_.last_error = std::string(status.message());
  failed_rounds_ = pending.rounds;
  LOG(ERROR) << Tagged("aggregation_failed")
                    .With("clients", absl::StrJoin(pending.rounds, ",",
                                                   absl::PairFormatter(":")))
                    .WithStatus(status);
}

}  // namespace epgfn
