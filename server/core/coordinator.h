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
#include "common/util/event_log.h"
#include "server/core/aggregation_checkpoint.h"
#include "server/core/federation_config.h"
#include "server/core/model_store.h"
#include "server/core/upload_selection.h"
#include "server/core/upload_store.h"

namespace epgfn {

struct CoordinatorOptions {
  torch::Device device = torch::kCPU;
  // Report the exact TV to the product of the local models (enumerable
  // instances only).
  bool evaluate_exact = true;
  // Iterations between progress reports (and chances to stop on shutdown).
  int64_t progress_every = 50;
  // A human progress line (iteration/total, loss, TV, ETA) is logged at
  // most this often, and at the end; zero: none.
  absl::Duration progress_interval = absl::Seconds(10);
  // How often the trigger is re-evaluated without an upload (deadlines).
  absl::Duration poll_interval = absl::Milliseconds(250);
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

  static absl::StatusOr<CoordinatorOptions> Create(
      torch::Device device, bool evaluate_exact, int64_t progress_every,
      int64_t checkpoint_every_iterations = 0,
      absl::Duration checkpoint_interval = absl::ZeroDuration());
};

// What GetStatus reports about aggregation.
struct AggregationState {
  // "idle", "waiting_for_uploads", "running", "publishing",
  // "publish_retrying" (trained, the publication failed and is retried; see
  // last_error and publish_attempts), "failed" or, for a named aggregate
  // whose every client's upload is excluded, "all_clients_excluded" (see
  // last_error).
  std::string state = "waiting_for_uploads";
  int64_t iteration = 0;
  int64_t total_iterations = 0;
  double loss = 0.0;
  // -1 when not evaluated.
  double total_variation_to_local_product = -1.0;
  std::string last_error;
  // The running (or last) aggregation resumed from a checkpoint written at
  // this iteration; 0 when it started afresh.
  int64_t resumed_from_iteration = 0;
  // Iteration of the last checkpoint the running (or last) aggregation
  // wrote; 0 when none.
  int64_t checkpoint_iteration = 0;
  // Failed publication attempts of the current result (0: none).
  int64_t publish_attempts = 0;
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
  Coordinator(std::shared_ptr<const FederationConfig> config,
              UploadStore* uploads, ModelStore* models,
              CoordinatorOptions options);
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
  absl::Time Now() const;
  void Loop();
  // Probes each included upload (blame_probe_walks) after a non-finite
  // aggregation; returns those that fail, with the probe's message.
  std::vector<ExcludedUpload> FindPoisonedUploads(
      const UploadSelection& selection) const;
  // Aggregates `uploads` and publishes; Cancelled when shut down meanwhile.
  absl::Status AggregateAndPublish(const UploadSelection& selection,
                                   const GlobalVersionPtr& latest);
  bool Stopping() const;
  // An event tagged with the federation (and the named aggregate).
  Event Tagged(absl::string_view name) const;
  bool is_default() const { return !options_.aggregate.has_value(); }

  const std::shared_ptr<const FederationConfig> config_;
  UploadStore* const uploads_;
  ModelStore* const models_;
  const CoordinatorOptions options_;
  std::optional<AggregationCheckpointStore> checkpoints_;

  mutable absl::Mutex mutex_;
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  bool wake_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Time round_opened_ ABSL_GUARDED_BY(mutex_);
  // Client -> round of the uploads whose aggregation last failed.
  std::map<std::string, int64_t> failed_rounds_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, ExcludedUpload> poisoned_ ABSL_GUARDED_BY(mutex_);
  AggregationState state_ ABSL_GUARDED_BY(mutex_);
  std::thread thread_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_COORDINATOR_H_
