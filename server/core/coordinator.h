#ifndef EPGFN_SERVER_CORE_COORDINATOR_H_
#define EPGFN_SERVER_CORE_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/aggregate/aggregator.h"
#include "common/aggregate/warm_start.h"
#include "common/eval/flow_consistency.h"
#include "common/train/progress_reporter.h"
#include "common/util/event_log.h"
#include "server/core/aggregation_checkpoint.h"
#include "server/core/aggregation_state.h"
#include "server/core/aggregation_trigger.h"
#include "server/core/federation_config.h"
#include "server/core/model_store.h"
#include "server/core/upload_selection.h"
#include "server/core/upload_store.h"

namespace epgfn {

// The server's FCS pool: 512 on-policy samples, 16 backward samples per
// object, 256 subsets of 8 (a fraction of a typical aggregation's cost).
FcsOptions DefaultServerFcsOptions();

struct CoordinatorOptions {
  // Report the exact TV to the product of the local models (enumerable
  // instances only).
  bool evaluate_exact = true;
  // FCS of the global model against the product of the local models'
  // terminal distributions (AggregationOptions::fcs_to_local_product; no
  // reward, no enumeration): at the end of each aggregation, before
  // publication, on a pool of fcs_to_local_product.num_samples (0: not
  // computed), and at each progress report on a pool of
  // fcs_progress_samples (0: not at progress).
  FcsOptions fcs_to_local_product = DefaultServerFcsOptions();
  int64_t fcs_progress_samples = 0;
  // Iterations between progress reports (and chances to stop on shutdown).
  int64_t progress_every = 50;
  // Stop an aggregation before its iteration budget once converged
  // (AggregationOptions::stopping, evaluated every progress_every
  // iterations); off by default. GetStatus reports why each run stopped.
  AggregationStoppingOptions stopping;
  // Where the global model starts when there is no published version to
  // warm-start from (the first aggregation): kNone, a fresh seeded
  // initialisation; kClient, a copy of the heaviest included client's
  // uploaded model (WarmStartClient), which needs the config's local and
  // global architectures to be equal and stops sooner at an equal or better
  // TV (BENCHMARKS.md, "Time to accuracy: warm starts"). kAverage is
  // refused: the server cannot know that the clients started from one
  // initialisation, without which a parameter average is no model.
  AggregationWarmStart first_aggregation_warm_start =
      AggregationWarmStart::kNone;
  // A human progress line (iteration/total, loss, TV, ETA) is logged at
  // most this often, and at the end; zero: none.
  absl::Duration progress_interval = absl::Seconds(10);
  // How often the trigger is re-evaluated without an upload (deadlines).
  absl::Duration poll_interval = absl::Milliseconds(250);
  // After the first version, a re-aggregation starts only once no upload has
  // been accepted for this long (TriggerPolicy::settle_window): streaming
  // updates of several clients arriving within it make one version. Zero:
  // re-aggregate at once (one version per update).
  absl::Duration settle_window = absl::ZeroDuration();
  // A running aggregation writes a checkpoint under
  // <state_dir>/aggregation/ when this many iterations (0: never by count)
  // or this much time (zero: never by time) have passed since the last one,
  // checked every min(progress_every, checkpoint_every_iterations)
  // iterations, and always when stopped by Shutdown(). Empty
  // checkpoint_state_dir: no checkpoints at all (ServerCore sets it).
  int64_t checkpoint_every_iterations = 0;
  absl::Duration checkpoint_interval = absl::ZeroDuration();
  std::string checkpoint_state_dir;
  // A publication that fails (a full disk) keeps the trained model in memory
  // and is retried after publish_retry_initial, doubling up to
  // publish_retry_max between attempts, until it succeeds or the server
  // shuts down (which checkpoints the finished aggregation when it can).
  absl::Duration publish_retry_initial = absl::Seconds(1);
  absl::Duration publish_retry_max = absl::Seconds(60);
  // Uniform probe trajectories per included upload when an aggregation goes
  // non-finite, to find the uploads responsible.
  int64_t blame_probe_walks = 1024;
  // The time the deadline and checkpoint timers read; tests inject a fake
  // clock (then call NotifyUploadAccepted() to re-evaluate at once).
  std::function<absl::Time()> clock;  // empty: absl::Now
  // Set: this coordinator trains a named aggregate, prod_i R_i^{w_i} over
  // its clients with a positive weight, into its own model store: it
  // aggregates once every one of them has an accepted upload (or the
  // deadline passed with at least one aggregated), and again, warm-started
  // from its latest version, whenever one of them uploads a newer round;
  // other clients' uploads do not concern it. It sets none of the
  // server-wide aggregation metrics (those are the default aggregate's).
  std::optional<NamedAggregateConfig> aggregate;

  // The first problem with these options; Coordinator::Start() refuses
  // them.
  absl::Status Validate() const;
  // Validate(), then the first problem with these options for `config` (a
  // client warm start across architectures); Coordinator::Start() and the
  // server's --check_config refuse them.
  absl::Status ValidateFor(const FederationConfig& config) const;
};

// Decides when to aggregate (DecideAggregation over the uploads that the
// exclusion policy keeps), runs the Aggregator on a background thread
// warm-started from the latest version, checkpoints it, and publishes the
// result to the model store (which wakes watchers). An aggregation whose
// inputs match the checkpoint on disk resumes from it; a checkpoint of other
// inputs is discarded. A failed aggregation leaves the state "failed" and is
// not retried until the uploads change, except that one gone non-finite
// probes each included upload again (more walks than at upload) and
// excludes those whose log-probabilities are not finite or bounded, by
// policy like the diagnostics' exclusions, until their client uploads a
// newer round; the others are then aggregated at once. A failed publication
// is retried with backoff, keeping the trained model.
class Coordinator {
 public:
  // Aggregates on `device`.
  Coordinator(std::shared_ptr<const FederationConfig> config,
              UploadStore* uploads, ModelStore* models,
              CoordinatorOptions options, torch::Device device);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Fails when the checkpoint directory cannot be created.
  absl::Status Start();
  // Stops the thread; a running aggregation stops within progress_every
  // iterations, writes a checkpoint (when checkpoints are on) and publishes
  // nothing.
  void Shutdown();

  // Re-evaluates the trigger now rather than at the next poll.
  void NotifyUploadAccepted();

  AggregationState state() const;

  // Accepted uploads excluded because an aggregation went non-finite on
  // them: client id -> the excluded round and the reason.
  std::map<std::string, ExcludedUpload> PoisonedUploads() const;

 private:
  // One aggregation the trigger asked for.
  struct PendingAggregation {
    UploadSelection selection;
    std::map<std::string, int64_t> rounds;  // of selection.included
    GlobalVersionPtr latest;                // warm start; null: cold
  };
  // What one aggregation trains on and publishes with.
  struct AggregationRun {
    std::vector<LocalModel> locals;
    AggregationInputs inputs;
    std::vector<ExcludedUpload> excluded;
    AggregationOptions options;
    std::optional<PolicyNet> warm_start;
  };

  absl::Time Now() const;
  void Loop();
  // Blocks until the trigger asks for an aggregation (returned, with the
  // phase set to running) or Shutdown() (nullopt), keeping the resting
  // phase up to date meanwhile.
  std::optional<PendingAggregation> WaitForAggregation();
  // The accepted uploads this coordinator aggregates, after the exclusion
  // policy and the poisoned uploads.
  UploadSelection SelectCurrentUploads(const UploadMap& uploads)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The resting phase when the trigger does not aggregate.
  void UpdateRestingPhase(TriggerDecision decision, bool already_failed,
                          const UploadSelection& selection, int num_uploaded,
                          int num_clients)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // AggregateAndPublish with exceptions turned into a status.
  absl::Status RunGuarded(const PendingAggregation& pending);
  // The state and logs after a run ended with `status`.
  void FinishAggregation(const PendingAggregation& pending,
                         const absl::Status& status);
  // Every phase change goes through here (checked against the table in
  // aggregation_state.h).
  void SetPhase(AggregationPhase phase) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // Probes each included upload (blame_probe_walks) after a non-finite
  // aggregation; returns those that fail, with the probe's message.
  std::vector<ExcludedUpload> FindPoisonedUploads(
      const UploadSelection& selection) const;
  // Aggregates `pending` and publishes; Cancelled when shut down meanwhile.
  absl::Status AggregateAndPublish(const PendingAggregation& pending);
  AggregationRun BuildRun(const PendingAggregation& pending) const;
  // Restores `aggregator` from a checkpoint of the same inputs; discards a
  // checkpoint of other inputs.
  void ResumeFromCheckpoint(const AggregationInputs& inputs,
                            Aggregator& aggregator);
  // Trains to the end in chunks, checkpointing by count, by timer and on
  // shutdown; Cancelled when shut down before the end.
  absl::Status RunWithCheckpoints(const AggregationRun& run,
                                  Aggregator& aggregator);
  void ReportProgress(const AggregationProgress& progress,
                      ProgressReporter& reporter);
  // The trained global model's FCS to the local product, into the state and
  // the metrics (the published version's log line reads it there); a
  // failure (a pool too peaked for a subset) is logged, not fatal.
  void MeasureFcsToLocalProduct(const Aggregator& aggregator);
  void WriteCheckpoint(const AggregationInputs& inputs,
                       const Aggregator& aggregator, const char* why);
  // ModelStore::Prepare, retried with backoff until it succeeds or the
  // server shuts down (Cancelled, after checkpointing the trained model).
  absl::StatusOr<PreparedVersion> PrepareWithRetries(
      const AggregationRun& run, const Aggregator& aggregator);
  // Exports and writes the trained model (retrying a failed write with
  // backoff), then makes it the latest version.
  absl::Status Publish(const AggregationRun& run, const Aggregator& aggregator);
  bool Stopping() const;
  // An event tagged with the federation (and the named aggregate).
  Event Tagged(absl::string_view name) const;
  bool is_default() const { return !options_.aggregate.has_value(); }

  const std::shared_ptr<const FederationConfig> config_;
  UploadStore* const uploads_;
  ModelStore* const models_;
  const CoordinatorOptions options_;
  const torch::Device device_;
  std::optional<AggregationCheckpointStore> checkpoints_;

  mutable absl::Mutex mutex_;
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  bool wake_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Time round_opened_ ABSL_GUARDED_BY(mutex_);
  // When NotifyUploadAccepted() was last called, by Now().
  std::optional<absl::Time> last_upload_ ABSL_GUARDED_BY(mutex_);
  // Client -> round of the uploads whose aggregation last failed.
  std::map<std::string, int64_t> failed_rounds_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, ExcludedUpload> poisoned_ ABSL_GUARDED_BY(mutex_);
  AggregationState state_ ABSL_GUARDED_BY(mutex_);
  std::thread thread_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_COORDINATOR_H_
