#include <glog/logging.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/util/status_macros.h"
#include "server/core/coordinator.h"
#include "server/core/server_metrics.h"

// One aggregation of the Coordinator, from its inputs to the published
// version (the trigger loop that starts it is in coordinator.cc).

namespace epgfn {
namespace {

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

// The default aggregate's FCS has its own gauge; a named one's is labelled
// with its name.
void SetFcsMetric(const std::optional<NamedAggregateConfig>& aggregate,
                  double fcs) {
  if (!aggregate) {
    GetServerMetrics().aggregation_fcs_to_local_product.Set(fcs);
    return;
  }
  GetServerMetrics()
      .aggregate_fcs_to_local_product.Add({{"aggregate", aggregate->name}})
      .Set(fcs);
}

}  // namespace

absl::Status Coordinator::AggregateAndPublish(
    const PendingAggregation& pending) {
  AggregationRun run = BuildRun(pending);
  for (const ExcludedUpload& excluded : run.excluded) {
    LOG(INFO) << "upload excluded from aggregation: client '"
              << excluded.client_id << "' round " << excluded.round << " ("
              << excluded.reason << ")";
  }
  LOG(INFO) << Tagged("aggregation_started")
                   .With("uploads", run.inputs.uploads.size())
                   .With("clients", absl::StrJoin(run.inputs.ClientIds(), ","))
                   .With("iterations", run.options.training.iterations)
                   .With("warm_start_version", run.inputs.warm_start_version)
                   .With("warm_start_client", run.inputs.warm_start_client_id);
  if (is_default()) {
    GetServerMetrics().aggregation_iteration.Set(0);
    GetServerMetrics().aggregation_total_iterations.Set(
        static_cast<double>(run.options.training.iterations));
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<Aggregator> aggregator,
      Aggregator::Create(config_->environment.get(), std::move(run.locals),
                         run.options, run.warm_start));
  if (checkpoints_) ResumeFromCheckpoint(run.inputs, *aggregator);
  RETURN_IF_ERROR(RunWithCheckpoints(run, *aggregator));
  {
    absl::MutexLock lock(&mutex_);
    state_.stop_reason = aggregator->stop_reason();
  }
  LOG(INFO) << Tagged("aggregation_stopped")
                   .With("iteration", aggregator->iterations_done())
                   .With("total_iterations", aggregator->total_iterations())
                   .With("reason",
                         AggregationStopReasonName(aggregator->stop_reason()));
  if (run.options.fcs_to_local_product.num_samples > 0) {
    MeasureFcsToLocalProduct(*aggregator);
  }
  return Publish(run, *aggregator);
}

Coordinator::AggregationRun Coordinator::BuildRun(
    const PendingAggregation& pending) const {
  AggregationRun run;
  run.inputs.spec_digest = config_->spec_digest;
  for (const auto& [client_id, upload] : pending.selection.included) {
    run.locals.push_back(LocalModel{
        client_id, config_->environment->config(), upload->policy,
        UsableDiagnostics(upload->diagnostics),
        options_.aggregate ? options_.aggregate->WeightOf(client_id) : 1.0});
    run.inputs.uploads.push_back(
        {client_id, upload->round, upload->payload_sha256});
  }
  run.excluded = pending.selection.excluded;
  run.options.architecture = config_->global_architecture;
  run.options.training = config_->aggregation;
  run.options.training.progress_every = std::max<int64_t>(
      1, std::min(options_.progress_every, run.options.training.iterations));
  run.options.device = device_;
  run.options.evaluate_exact = options_.evaluate_exact;
  run.options.fcs_to_local_product = options_.fcs_to_local_product;
  run.options.fcs_progress_samples = options_.fcs_progress_samples;
  run.options.stopping = options_.stopping;
  if (pending.latest != nullptr) {
    run.warm_start = pending.latest->policy;
    run.inputs.warm_start_version = pending.latest->version;
    run.inputs.warm_start_sha256 = pending.latest->payload_sha256;
  } else if (options_.first_aggregation_warm_start ==
             AggregationWarmStart::kClient) {
    // run.locals is never empty here: the trigger aggregates no empty
    // selection.
    absl::StatusOr<const LocalModel*> client = WarmStartClient(run.locals);
    if (client.ok()) {
      run.warm_start = (*client)->policy;
      run.inputs.warm_start_client_id = (*client)->client_id;
      run.inputs.warm_start_sha256 =
          pending.selection.included.at((*client)->client_id)->payload_sha256;
    }
  }
  return run;
}

void Coordinator::ResumeFromCheckpoint(const AggregationInputs& inputs,
                                       Aggregator& aggregator) {
  absl::StatusOr<aggregate::v1::AggregatorCheckpoint> checkpoint =
      checkpoints_->Load(inputs);
  absl::Status restored =
      checkpoint.ok() ? aggregator.Restore(*checkpoint) : checkpoint.status();
  if (restored.ok()) {
    LOG(INFO) << "aggregation resumed from checkpoint at iteration "
              << aggregator.iterations_done() << "/"
              << aggregator.total_iterations() << " (" << checkpoints_->path()
              << ")";
    absl::MutexLock lock(&mutex_);
    state_.resumed_from_iteration = aggregator.iterations_done();
    state_.checkpoint_iteration = aggregator.iterations_done();
    state_.iteration = aggregator.iterations_done();
  } else if (!absl::IsNotFound(restored)) {
    LOG(INFO) << "aggregation checkpoint discarded: " << restored.message();
    if (absl::Status removed = checkpoints_->Remove(); !removed.ok()) {
      LOG(WARNING) << removed;
    }
  }
}

void Coordinator::ReportProgress(const AggregationProgress& progress,
                                 ProgressReporter& reporter) {
  reporter.Update({progress.training.iteration,
                   progress.training.total_iterations, progress.training.loss,
                   progress.total_variation_to_local_product,
                   progress.fcs_to_local_product});
  absl::MutexLock lock(&mutex_);
  state_.iteration = progress.training.iteration;
  state_.total_iterations = progress.training.total_iterations;
  state_.loss = progress.training.loss;
  state_.total_variation_to_local_product =
      progress.total_variation_to_local_product.value_or(-1.0);
  if (progress.fcs_to_local_product) {
    state_.fcs_to_local_product = *progress.fcs_to_local_product;
  }
  Event event = Tagged("aggregation_progress");
  event.With("iteration", state_.iteration)
      .With("total_iterations", state_.total_iterations)
      .With("loss", state_.loss);
  if (progress.total_variation_to_local_product) {
    event.With("tv_to_local_product",
               *progress.total_variation_to_local_product);
  }
  if (progress.fcs_to_local_product) {
    event.With("fcs_to_local_product", *progress.fcs_to_local_product);
  }
  LOG(INFO) << event;
  if (progress.fcs_to_local_product) {
    SetFcsMetric(options_.aggregate, *progress.fcs_to_local_product);
  }
  if (!is_default()) return;
  GetServerMetrics().aggregation_iteration.Set(
      static_cast<double>(state_.iteration));
  GetServerMetrics().aggregation_loss.Set(state_.loss);
}

void Coordinator::MeasureFcsToLocalProduct(const Aggregator& aggregator) {
  absl::StatusOr<double> fcs = aggregator.FcsToLocalProduct();
  if (!fcs.ok()) {
    LOG(WARNING) << Tagged("fcs_not_computed").WithStatus(fcs.status());
    return;
  }
  absl::MutexLock lock(&mutex_);
  state_.fcs_to_local_product = *fcs;
  SetFcsMetric(options_.aggregate, *fcs);
}

void Coordinator::WriteCheckpoint(const AggregationInputs& inputs,
                                  const Aggregator& aggregator,
                                  const char* why) {
  const int64_t iteration = aggregator.iterations_done();
  absl::Status written = checkpoints_->Write(inputs, aggregator.Checkpoint());
  if (!written.ok()) {
    // Not fatal: the aggregation goes on, a crash would only lose more.
    LOG(WARNING) << "aggregation checkpoint at iteration " << iteration
                 << " not written: " << written;
    return;
  }
  LOG(INFO) << "aggregation checkpoint written: iteration " << iteration << "/"
            << aggregator.total_iterations() << " (" << why << ")";
  absl::MutexLock lock(&mutex_);
  state_.checkpoint_iteration = iteration;
}

absl::Status Coordinator::RunWithCheckpoints(const AggregationRun& run,
                                             Aggregator& aggregator) {
  ProgressReporter reporter("aggregation", options_.progress_interval,
                            [](const std::string& line) { LOG(INFO) << line; });
  auto on_progress = [this, &reporter](const AggregationProgress& progress) {
    ReportProgress(progress, reporter);
  };
  // Runs in chunks, so that a checkpoint can be written and a shutdown
  // noticed between them.
  const int64_t total = aggregator.total_iterations();
  int64_t chunk = run.options.training.progress_every;
  if (options_.checkpoint_every_iterations > 0) {
    chunk = std::min(chunk, options_.checkpoint_every_iterations);
  }
  int64_t last_checkpoint_iteration = aggregator.iterations_done();
  absl::Time last_checkpoint_time = Now();
  while (!aggregator.finished()) {
    const int64_t next =
        std::min(total, (aggregator.iterations_done() / chunk + 1) * chunk);
    RETURN_IF_ERROR(aggregator.RunUntil(next, on_progress));
    const int64_t done = aggregator.iterations_done();
    const bool stopping = Stopping();
    if (checkpoints_ && !aggregator.finished()) {
      const bool by_count = options_.checkpoint_every_iterations > 0 &&
                            done - last_checkpoint_iteration >=
                                options_.checkpoint_every_iterations;
      const bool by_time =
          options_.checkpoint_interval > absl::ZeroDuration() &&
          Now() - last_checkpoint_time >= options_.checkpoint_interval;
      if (stopping || by_count || by_time) {
        WriteCheckpoint(
            run.inputs, aggregator,
            stopping ? "shutdown" : (by_count ? "interval" : "timer"));
        last_checkpoint_iteration = done;
        last_checkpoint_time = Now();
      }
    }
    if (stopping && !aggregator.finished()) {
      return absl::CancelledError(absl::StrCat(
          "at iteration ", done, "/", total,
          checkpoints_ ? ", checkpointed" : ", no checkpoint (disabled)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PreparedVersion> Coordinator::PrepareWithRetries(
    const AggregationRun& run, const Aggregator& aggregator) {
  std::vector<IncludedUpload> included;
  for (const AggregationInputs::Upload& upload : run.inputs.uploads) {
    included.push_back({upload.client_id, upload.round});
  }
  std::vector<ExcludedClient> excluded;
  for (const ExcludedUpload& upload : run.excluded) {
    excluded.push_back({upload.client_id, upload.reason});
  }
  absl::Duration backoff = options_.publish_retry_initial;
  for (;;) {
    absl::StatusOr<PreparedVersion> attempt;
    try {
      attempt =
          models_->Prepare(aggregator.global_policy(), included, excluded);
    } catch (const std::exception& e) {
      attempt = absl::InternalError(absl::StrCat("export threw: ", e.what()));
    }
    if (attempt.ok()) return attempt;
    bool stopping = false;
    {
      absl::MutexLock lock(&mutex_);
      ++state_.publish_attempts;
      SetPhase(AggregationPhase::kPublishRetrying);
      state_.last_error = absl::StrCat(
          "publication failed (attempt ", state_.publish_attempts,
          "; the trained model is kept, retrying in ",
          absl::FormatDuration(backoff), "): ", attempt.status().message());
      LOG(ERROR) << Tagged("publication_failed")
                        .With("attempt", state_.publish_attempts)
                        .With("retry_in", absl::FormatDuration(backoff))
                        .WithStatus(attempt.status());
      mutex_.AwaitWithTimeout(absl::Condition(&stop_), backoff);
      stopping = stop_;
    }
    if (stopping) {
      // The finished aggregation's checkpoint lets a restart publish it
      // without training again (when the disk takes it by then).
      if (checkpoints_) {
        WriteCheckpoint(run.inputs, aggregator, "shutdown before publication");
      }
      return absl::CancelledError("trained, but not published before shutdown");
    }
    backoff = std::min(backoff * 2, options_.publish_retry_max);
  }
}

absl::Status Coordinator::Publish(const AggregationRun& run,
                                  const Aggregator& aggregator) {
  // Export, serialization, re-import and the fsynced writes run outside the
  // coordinator's lock, so that GetStatus and uploads' notifications do not
  // wait behind them. A failure keeps the trained model and retries.
  {
    absl::MutexLock lock(&mutex_);
    SetPhase(AggregationPhase::kPublishing);
  }
  ASSIGN_OR_RETURN(PreparedVersion prepared,
                   PrepareWithRetries(run, aggregator));
  // Made visible and marked idle in one critical section, so that a client
  // woken by the new version never reads a stale "running" from GetStatus.
  absl::MutexLock lock(&mutex_);
  GlobalVersionPtr published = models_->Commit(std::move(prepared));
  if (state_.publish_attempts > 0) {
    LOG(INFO) << Tagged("publication_recovered")
                     .With("failed_attempts", state_.publish_attempts);
  }
  SetPhase(AggregationPhase::kIdle);
  failed_rounds_.clear();
  round_opened_ = Now();
  Event event = Tagged("version_published");
  event.With("version", published->version)
      .With("clients", absl::StrJoin(published->ClientIds(), ","))
      .With("excluded", absl::StrJoin(published->ExcludedClientIds(), ","))
      .With("bytes", published->payload.size())
      .With("sha256", published->payload_sha256);
  if (state_.fcs_to_local_product >= 0) {
    event.With("fcs_to_local_product", state_.fcs_to_local_product);
  }
  event.With("stop_reason", AggregationStopReasonName(state_.stop_reason));
  LOG(INFO) << event;
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
