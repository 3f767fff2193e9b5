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
#include "common/util/event_log.h"
#include "common/util/status_macros.h"
#include "server/core/aggregation_trigger.h"
#include "server/core/server_metrics.h"

namespace epgfn {
namespace {

// Thrown from the progress callback to abandon a running aggregation on
// shutdown: the Trainer has no cancellation hook, and its loop only holds
// RAII-owned tensors, so unwinding through it is safe.
struct AggregationCancelled {};

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

}  // namespace

absl::StatusOr<CoordinatorOptions> CoordinatorOptions::Create(
    torch::Device device, bool evaluate_exact, int64_t progress_every) {
  if (progress_every < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("progress_every must be >= 1, got ", progress_every));
  }
  CoordinatorOptions options;
  options.device = device;
  options.evaluate_exact = evaluate_exact;
  options.progress_every = progress_every;
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

void Coordinator::Start() {
  {
    absl::MutexLock lock(&mutex_);
    round_opened_ = absl::Now();
  }
  thread_ = std::thread([this] { Loop(); });
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
    const UploadMap uploads = uploads_->Accepted();
    const std::map<std::string, int64_t> rounds = RoundsOf(uploads);
    const GlobalVersionPtr latest = models_->Latest();
    TriggerDecision decision =
        DecideAggregation(config_->num_clients(), config_->quorum,
                          config_->upload_deadline_seconds, rounds,
                          latest.get(), absl::Now() - round_opened_);
    const bool already_failed =
        !failed_rounds_.empty() && rounds == failed_rounds_;
    if (decision == TriggerDecision::kAggregate && !already_failed) {
      state_.state = "running";
      state_.iteration = 0;
      state_.total_iterations = config_->aggregation.iterations;
      state_.loss = 0.0;
      state_.total_variation_to_local_product = -1.0;
      mutex_.Unlock();
      GetServerMetrics().aggregation_running.Set(1);
      absl::Status status;
      try {
        status = AggregateAndPublish(uploads, latest);
      } catch (const AggregationCancelled&) {
        status = absl::CancelledError("aggregation abandoned at shutdown");
      } catch (const std::exception& e) {
        status =
            absl::InternalError(absl::StrCat("aggregation threw: ", e.what()));
      }
      mutex_.Lock();
      GetServerMetrics().aggregation_running.Set(0);
      GetServerMetrics()
          .aggregation_runs
          .Labels({status.ok()                          ? "published"
                   : absl::IsCancelled(status) && stop_ ? "abandoned"
                                                        : "failed"})
          .Increment();
      if (status.ok()) {
        state_.state = "idle";
        failed_rounds_.clear();
        round_opened_ = absl::Now();
      } else if (absl::IsCancelled(status) && stop_) {
        LOG(INFO) << Event("aggregation_abandoned")
                         .With("federation", config_->spec.name())
                         .With("reason", "server shutting down");
      } else {
        state_.state = "failed";
        state_.last_error = std::string(status.message());
        failed_rounds_ = rounds;
        LOG(ERROR) << Event("aggregation_failed")
                          .With("federation", config_->spec.name())
                          .With("clients",
                                absl::StrJoin(rounds, ",",
                                              absl::PairFormatter(":")))
                          .WithStatus(status);
      }
      continue;
    }
    if (already_failed && decision == TriggerDecision::kAggregate) {
      state_.state = "failed";
    } else {
      state_.state =
          decision == TriggerDecision::kIdle ? "idle" : "waiting_for_uploads";
    }
    mutex_.AwaitWithTimeout(absl::Condition(&wake_), options_.poll_interval);
  }
}

absl::Status Coordinator::AggregateAndPublish(const UploadMap& uploads,
                                              const GlobalVersionPtr& latest) {
  std::vector<LocalModel> locals;
  std::vector<std::string> client_ids;
  std::vector<int64_t> client_rounds;
  for (const auto& [client_id, upload] : uploads) {
    locals.push_back(LocalModel{client_id, config_->environment->config(),
                                upload->policy,
                                UsableDiagnostics(upload->diagnostics)});
    client_ids.push_back(client_id);
    client_rounds.push_back(upload->round);
  }
  AggregationOptions options;
  options.architecture = config_->global_architecture;
  options.training = config_->aggregation;
  options.training.progress_every =
      std::min(options_.progress_every, options.training.iterations);
  options.device = options_.device;
  options.evaluate_exact = options_.evaluate_exact;
  std::optional<PolicyNet> warm_start;
  if (latest != nullptr) warm_start = latest->policy;

  LOG(INFO) << Event("aggregation_started")
                   .With("federation", config_->spec.name())
                   .With("uploads", client_ids.size())
                   .With("clients", absl::StrJoin(client_ids, ","))
                   .With("iterations", options.training.iterations)
                   .With("warm_start_version",
                         latest != nullptr ? latest->version : 0);
  GetServerMetrics().aggregation_iteration.Set(0);
  GetServerMetrics().aggregation_total_iterations.Set(
      static_cast<double>(options.training.iterations));
  ASSIGN_OR_RETURN(std::unique_ptr<Aggregator> aggregator,
                   Aggregator::Create(config_->environment.get(),
                                      std::move(locals), options, warm_start));
  RETURN_IF_ERROR(aggregator->Run([this](const AggregationProgress& progress) {
    absl::MutexLock lock(&mutex_);
    if (stop_) throw AggregationCancelled();
    state_.iteration = progress.training.iteration;
    state_.total_iterations = progress.training.total_iterations;
    state_.loss = progress.training.loss;
    state_.total_variation_to_local_product =
        progress.total_variation_to_local_product.value_or(-1.0);
    Event event("aggregation_progress");
    event.With("federation", config_->spec.name())
        .With("iteration", state_.iteration)
        .With("total_iterations", state_.total_iterations)
        .With("loss", state_.loss);
    if (progress.total_variation_to_local_product) {
      event.With("tv_to_local_product",
                 *progress.total_variation_to_local_product);
    }
    LOG(INFO) << event;
    GetServerMetrics().aggregation_iteration.Set(
        static_cast<double>(state_.iteration));
    GetServerMetrics().aggregation_loss.Set(state_.loss);
  }));
  // Published and marked idle in one critical section, so that a client
  // woken by the new version never reads a stale "running" from GetStatus.
  absl::MutexLock lock(&mutex_);
  ASSIGN_OR_RETURN(
      GlobalVersionPtr published,
      models_->Publish(aggregator->global_policy(), client_ids, client_rounds));
  state_.state = "idle";
  failed_rounds_.clear();
  round_opened_ = absl::Now();
  LOG(INFO) << Event("version_published")
                   .With("federation", config_->spec.name())
                   .With("version", published->version)
                   .With("clients", absl::StrJoin(client_ids, ","))
                   .With("bytes", published->payload.size())
                   .With("sha256", published->payload_sha256);
  GetServerMetrics().published_version.Set(
      static_cast<double>(published->version));
  return absl::OkStatus();
}

}  // namespace epgfn
