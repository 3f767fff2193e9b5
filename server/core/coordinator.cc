#include "server/core/coordinator.h"

#include <glog/logging.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/aggregate/aggregator.h"
#include "common/train/progress_reporter.h"
#include "common/util/status_macros.h"
#include "server/core/aggregation_trigger.h"
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

// The Jeffrey bound is only defined for alpha < 1; diagnostics outside the
// theorem's range are reported back but not used.
std::optional<LocalDiagnostics> UsableDiagnostics(
    const std::optional<LocalDiagnostics>& diagnostics) {
  if (!diagnostics || diagnostics->alpha < 0.0 || diagnostics->alpha >= 1.0 ||
      diagnostics->beta < 0.0) {
    return std::nullopt;
  }
  return diagnostics;
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

}  // namespace

absl::StatusOr<CoordinatorOptions> CoordinatorOptions::Create(
    torch::Device device, bool evaluate_exact, int64_t progress_every,
    int64_t checkpoint_every_iterations, absl::Duration checkpoint_interval) {
  if (progress_every < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("progress_every must be >= 1, got ", progress_every));
  }
  if (checkpoint_every_iterations < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint_every_iterations must be >= 0, got ",
                     checkpoint_every_iterations));
  }
  if (checkpoint_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint_interval must be >= 0, got ",
                     absl::FormatDuration(checkpoint_interval)));
  }
  CoordinatorOptions options;
  options.device = device;
  options.evaluate_exact = evaluate_exact;
  options.progress_every = progress_every;
  options.checkpoint_every_iterations = checkpoint_every_iterations;
  options.checkpoint_interval = checkpoint_interval;
  return options;
}

Coordinator::Coordinator(std::shared_ptr<const FederationConfig> config,
                         UploadStore* uploads, ModelStore* models,
                         CoordinatorOptions options)
    : config_(std::move(config)),
      uploads_(uploads),
      models_(models),
      options_(options) {}

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

absl::Status Coordinator::Start() {
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
  absl::MutexLock lock(&mutex_);
  wake_ = true;
}

AggregationState Coordinator::state() const {
  absl::ReaderMutexLock lock(&mutex_);
  return state_;
}

void Coordinator::Loop() {
  absl::MutexLock lock(&mutex_);
  while (!stop_) {
    wake_ = false;
    const UploadMap uploads =
        options_.aggregate
            ? MembersOnly(uploads_->Accepted(), *options_.aggregate)
            : uploads_->Accepted();
    UploadSelection selection = SelectUploads(uploads, config_->exclusion);
    // Uploads that made an aggregation non-finite stay out until their
    // client uploads a newer round.
    for (auto it = poisoned_.begin(); it != poisoned_.end();) {
      auto upload = uploads.find(it->first);
      if (upload == uploads.end() ||
          upload->second->round != it->second.round) {
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
    const std::map<std::string, int64_t> rounds = RoundsOf(selection.included);
    const GlobalVersionPtr latest = models_->Latest();
    // A named aggregate waits for all of its clients (its own quorum is 1).
    const int num_clients =
        is_default() ? config_->num_clients()
                     : static_cast<int>(options_.aggregate->Members().size());
    TriggerDecision decision = DecideAggregation(
        num_clients, is_default() ? config_->quorum : 1,
        config_->upload_deadline_seconds, rounds,
        static_cast<int>(uploads.size()), latest.get(), Now() - round_opened_);
    const bool already_failed =
        !failed_rounds_.empty() && rounds == failed_rounds_;
    if (decision == TriggerDecision::kAggregate && !already_failed) {
      state_.state = "running";
      state_.iteration = 0;
      state_.total_iterations = config_->aggregation.iterations;
      state_.loss = 0.0;
      state_.total_variation_to_local_product = -1.0;
      state_.resumed_from_iteration = 0;
      state_.checkpoint_iteration = 0;
      state_.publish_attempts = 0;
      mutex_.Unlock();
      if (is_default()) GetServerMetrics().aggregation_running.Set(1);
      absl::Status status;
      try {
        status = AggregateAndPublish(selection, latest);
      } catch (const std::exception& e) {
        status =
            absl::InternalError(absl::StrCat("aggregation threw: ", e.what()));
      }
      std::vector<ExcludedUpload> poisoned;
      if (!status.ok() && !absl::IsCancelled(status)) {
        // Which uploads did it? (A failure that no probe explains stays a
        // plain failure.)
        poisoned = FindPoisonedUploads(selection);
      }
      mutex_.Lock();
      if (is_default()) {
        GetServerMetrics().aggregation_running.Set(0);
        GetServerMetrics()
            .aggregation_runs
            .Add({{"result", status.ok()                          ? "published"
                             : absl::IsCancelled(status) && stop_ ? "abandoned"
                                                                  : "failed"}})
            .Increment();
      }
      if (status.ok()) {
        state_.state = "idle";
        failed_rounds_.clear();
        round_opened_ = Now();
      } else if (!poisoned.empty()) {
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
      } else if (absl::IsCancelled(status) && stop_) {
        LOG(INFO) << Tagged("aggregation_stopped")
                         .With("reason", "server shutting down")
                         .With("detail", status.message());
      } else {
        state_.state = "failed";
        state_.last_error = std::string(status.message());
        failed_rounds_ = rounds;
        LOG(ERROR) << Tagged("aggregation_failed")
                          .With("clients",
                                absl::StrJoin(rounds, ",",
                                              absl::PairFormatter(":")))
                          .WithStatus(status);
      }
      continue;
    }
    if (already_failed && decision == TriggerDecision::kAggregate) {
      state_.state = "failed";
    } else if (!is_default() && selection.included.empty() &&
               !selection.excluded.empty() &&
               static_cast<int>(uploads.size()) >= num_clients) {
      // Nothing to aggregate and nothing more to wait for: say why.
      std::vector<std::string> reasons;
      for (const ExcludedUpload& excluded : selection.excluded) {
        reasons.push_back(absl::StrCat(excluded.client_id, ":", excluded.round,
                                       " (", excluded.reason, ")"));
      }
      const std::string why = absl::StrCat(
          "not published: every client of aggregate '",
          options_.aggregate->name,
          "' has its upload excluded: ", absl::StrJoin(reasons, "; "));
      if (state_.state != "all_clients_excluded" || state_.last_error != why) {
        LOG(WARNING) << Tagged("aggregate_not_published").With("reason", why);
      }
      state_.state = "all_clients_excluded";
      state_.last_error = why;
    } else {
      state_.state =
          decision == TriggerDecision::kIdle ? "idle" : "waiting_for_uploads";
    }
    mutex_.AwaitWithTimeout(absl::Condition(&wake_), options_.poll_interval);
  }
}

absl::Status Coordinator::AggregateAndPublish(const UploadSelection& selection,
                                              const GlobalVersionPtr& latest) {
  std::vector<LocalModel> locals;
  AggregationInputs inputs;
  inputs.spec_digest = config_->spec_digest;
  for (const auto& [client_id, upload] : selection.included) {
    locals.push_back(LocalModel{
        client_id, config_->environment->config(), upload->policy,
        UsableDiagnostics(upload->diagnostics),
        options_.aggregate ? options_.aggregate->WeightOf(client_id) : 1.0});
    inputs.client_ids.push_back(client_id);
    inputs.client_rounds.push_back(upload->round);
    inputs.payload_sha256.push_back(upload->payload_sha256);
  }
  std::vector<std::string> excluded_ids;
  std::vector<std::string> exclusion_reasons;
  for (const ExcludedUpload& excluded : selection.excluded) {
    excluded_ids.push_back(excluded.client_id);
    exclusion_reasons.push_back(excluded.reason);
    LOG(INFO) << "upload excluded from aggregation: client '"
              << excluded.client_id << "' round " << excluded.round << " ("
              << excluded.reason << ")";
  }
  AggregationOptions options;
  options.architecture = config_->global_architecture;
  options.training = config_->aggregation;
  options.training.progress_every = std::max<int64_t>(
      1, std::min(options_.progress_every, options.training.iterations));
  options.device = options_.device;
  options.evaluate_exact = options_.evaluate_exact;
  std::optional<PolicyNet> warm_start;
  if (latest != nullptr) {
    warm_start = latest->policy;
    inputs.warm_start_version = latest->version;
    inputs.warm_start_sha256 = latest->payload_sha256;
  }

  LOG(INFO) << Tagged("aggregation_started")
                   .With("uploads", inputs.client_ids.size())
                   .With("clients", absl::StrJoin(inputs.client_ids, ","))
                   .With("iterations", options.training.iterations)
                   .With("warm_start_version",
                         latest != nullptr ? latest->version : 0);
  if (is_default()) {
    GetServerMetrics().aggregation_iteration.Set(0);
    GetServerMetrics().aggregation_total_iterations.Set(
        static_cast<double>(options.training.iterations));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Aggregator> aggregator,
                   Aggregator::Create(config_->environment.get(),
                                      std::move(locals), options, warm_start));
  if (checkpoints_) {
    absl::StatusOr<aggregate::v1::AggregatorCheckpoint> checkpoint =
        checkpoints_->Load(inputs);
    absl::Status restored = checkpoint.ok() ? aggregator->Restore(*checkpoint)
                                            : checkpoint.status();
    if (restored.ok()) {
      LOG(INFO) << "aggregation resumed from checkpoint at iteration "
                << aggregator->iterations_done() << "/"
                << aggregator->total_iterations() << " ("
                << checkpoints_->path() << ")";
      absl::MutexLock lock(&mutex_);
      state_.resumed_from_iteration = aggregator->iterations_done();
      state_.checkpoint_iteration = aggregator->iterations_done();
      state_.iteration = aggregator->iterations_done();
    } else if (!absl::IsNotFound(restored)) {
      LOG(INFO) << "aggregation checkpoint discarded: " << restored.message();
      if (absl::Status removed = checkpoints_->Remove(); !removed.ok()) {
        LOG(WARNING) << removed;
      }
    }
  }

  ProgressReporter reporter("aggregation", options_.progress_interval,
                            [](const std::string& line) { LOG(INFO) << line; });
  auto on_progress = [this, &reporter](const AggregationProgress& progress) {
    reporter.Update({progress.training.iteration,
                     progress.training.total_iterations, progress.training.loss,
                     progress.total_variation_to_local_product, std::nullopt});
    absl::MutexLock lock(&mutex_);
    state_.iteration = progress.training.iteration;
    state_.total_iterations = progress.training.total_iterations;
    state_.loss = progress.training.loss;
    state_.total_variation_to_local_product =
        progress.total_variation_to_local_product.value_or(-1.0);
    Event event = Tagged("aggregation_progress");
    event.With("iteration", state_.iteration)
        .With("total_iterations", state_.total_iterations)
        .With("loss", state_.loss);
    if (progress.total_variation_to_local_product) {
      event.With("tv_to_local_product",
                 *progress.total_variation_to_local_product);
    }
    LOG(INFO) << event;
    if (!is_default()) return;
    GetServerMetrics().aggregation_iteration.Set(
        static_cast<double>(state_.iteration));
    GetServerMetrics().aggregation_loss.Set(state_.loss);
  };
  auto write_checkpoint = [&](const char* why) {
    const int64_t iteration = aggregator->iterations_done();
    absl::Status written =
        checkpoints_->Write(inputs, aggregator->Checkpoint());
    if (!written.ok()) {
      // Not fatal: the aggregation goes on, a crash would only lose more.
      LOG(WARNING) << "aggregation checkpoint at iteration " << iteration
                   << " not written: " << written;
      return;
    }
    LOG(INFO) << "aggregation checkpoint written: iteration " << iteration
              << "/" << aggregator->total_iterations() << " (" << why << ")";
    absl::MutexLock lock(&mutex_);
    state_.checkpoint_iteration = iteration;
  };

  // Runs in chunks, so that a checkpoint can be written and a shutdown
  // noticed between them.
  const int64_t total = aggregator->total_iterations();
  int64_t chunk = options.training.progress_every;
  if (options_.checkpoint_every_iterations > 0) {
    chunk = std::min(chunk, options_.checkpoint_every_iterations);
  }
  int64_t last_checkpoint_iteration = aggregator->iterations_done();
  absl::Time last_checkpoint_time = Now();
  while (aggregator->iterations_done() < total) {
    const int64_t next =
        std::min(total, (aggregator->iterations_done() / chunk + 1) * chunk);
    RETURN_IF_ERROR(aggregator->RunUntil(next, on_progress));
    const int64_t done = aggregator->iterations_done();
    const bool stopping = Stopping();
    if (checkpoints_ && done < total) {
      const bool by_count = options_.checkpoint_every_iterations > 0 &&
                            done - last_checkpoint_iteration >=
                                options_.checkpoint_every_iterations;
      const bool by_time =
          options_.checkpoint_interval > absl::ZeroDuration() &&
          Now() - last_checkpoint_time >= options_.checkpoint_interval;
      if (stopping || by_count || by_time) {
        write_checkpoint(stopping ? "shutdown"
                                  : (by_count ? "interval" : "timer"));
        last_checkpoint_iteration = done;
        last_checkpoint_time = Now();
      }
    }
    if (stopping && done < total) {
      return absl::CancelledError(absl::StrCat(
          "at iteration ", done, "/", total,
          checkpoints_ ? ", checkpointed" : ", no checkpoint (disabled)"));
    }
  }

  // Export, serialization, re-import and the fsynced writes run outside the
  // coordinator's lock, so that GetStatus and uploads' notifications do not
  // wait behind them. A failure keeps the trained model and retries.
  {
    absl::MutexLock lock(&mutex_);
    state_.state = "publishing";
  }
  absl::Duration backoff = options_.publish_retry_initial;
  PreparedVersion prepared;
  for (;;) {
    absl::StatusOr<PreparedVersion> attempt;
    try {
      attempt = models_->Prepare(aggregator->global_policy(), inputs.client_ids,
                                 inputs.client_rounds, excluded_ids,
                                 exclusion_reasons);
    } catch (const std::exception& e) {
      attempt = absl::InternalError(absl::StrCat("export threw: ", e.what()));
    }
    if (attempt.ok()) {
      prepared = *std::move(attempt);
      break;
    }
    absl::MutexLock lock(&mutex_);
    ++state_.publish_attempts;
    state_.state = "publish_retrying";
    state_.last_error = absl::StrCat(
        "publication failed (attempt ", state_.publish_attempts,
        "; the trained model is kept, retrying in ",
        absl::FormatDuration(backoff), "): ", attempt.status().message());
    LOG(ERROR) << Tagged("publication_failed")
                      .With("attempt", state_.publish_attempts)
                      .With("retry_in", absl::FormatDuration(backoff))
                      .WithStatus(attempt.status());
    mutex_.AwaitWithTimeout(absl::Condition(&stop_), backoff);
    if (stop_) {
      mutex_.Unlock();
      // The finished aggregation's checkpoint lets a restart publish it
      // without training again (when the disk takes it by then).
      if (checkpoints_) write_checkpoint("shutdown before publication");
      mutex_.Lock();
      return absl::CancelledError("trained, but not published before shutdown");
    }
    backoff = std::min(backoff * 2, options_.publish_retry_max);
  }
  // Made visible and marked idle in one critical section, so that a client
  // woken by the new version never reads a stale "running" from GetStatus.
  absl::MutexLock lock(&mutex_);
  GlobalVersionPtr published = models_->Commit(std::move(prepared));
  if (state_.publish_attempts > 0) {
    LOG(INFO) << Tagged("publication_recovered")
                     .With("failed_attempts", state_.publish_attempts);
  }
  state_.state = "idle";
  failed_rounds_.clear();
  round_opened_ = Now();
  LOG(INFO) << Tagged("version_published")
                   .With("version", published->version)
                   .With("clients", absl::StrJoin(inputs.client_ids, ","))
                   .With("excluded", absl::StrJoin(excluded_ids, ","))
                   .With("bytes", published->payload.size())
                   .With("sha256", published->payload_sha256);
  if (is_default()) {
    GetServerMetrics().published_version.Set(
        static_cast<double>(published->version));
  }
  if (checkpoints_) {
    // The version supersedes the checkpoint; one left behind by a crash
    // right here is discarded at the next aggregation (its warm start
    // differs).
    if (absl::Status removed = checkpoints_->Remove(); !removed.ok()) {
      LOG(WARNING) << "aggregation checkpoint not removed: " << removed;
    }
  }
  return absl::OkStatus();
}

}  // namespace epgfn
