#ifndef EPGFN_SERVER_CORE_AGGREGATION_STATE_H_
#define EPGFN_SERVER_CORE_AGGREGATION_STATE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/aggregate/aggregation_stopping.h"

namespace epgfn {

// Where a coordinator's aggregation stands. The transitions:
//
//   waiting_for_uploads, idle, failed, all_clients_excluded
//       <-> each other (the trigger re-evaluated), -> running
//   running    -> publishing, failed, or back to waiting (shutdown, or the
//                 uploads responsible for a non-finite run excluded)
//   publishing -> publish_retrying -> (retries) -> idle; publishing -> idle
//                 (or failed, should the export throw)
//
// IsAllowedTransition() holds this table; Coordinator checks every change
// against it.
enum class AggregationPhase {
  kWaitingForUploads,
  kIdle,
  kRunning,
  kPublishing,
  // Trained; the publication failed and is retried (see last_error and
  // publish_attempts).
  kPublishRetrying,
  kFailed,
  // A named aggregate whose every client's upload is excluded.
  kAllClientsExcluded,
};

// The name GetStatus and the logs use: "waiting_for_uploads", "idle",
// "running", "publishing", "publish_retrying", "failed",
// "all_clients_excluded".
absl::string_view AggregationPhaseName(AggregationPhase phase);

bool IsAllowedTransition(AggregationPhase from, AggregationPhase to);

// What GetStatus reports about aggregation.
struct AggregationState {
  AggregationPhase phase = AggregationPhase::kWaitingForUploads;
  int64_t iteration = 0;
  int64_t total_iterations = 0;
  double loss = 0.0;
  // -1 when not evaluated.
  double total_variation_to_local_product = -1.0;
  // FCS of the global model against the product of the local models'
  // terminal distributions (common/aggregate/aggregate_flow_consistency.h):
  // the last one computed, at the end of the run or at a progress report;
  // -1 when none was.
  double fcs_to_local_product = -1.0;
  std::string last_error;
  // The running (or last) aggregation resumed from a checkpoint written at
  // this iteration; 0 when it started afresh.
  int64_t resumed_from_iteration = 0;
  // Iteration of the last checkpoint the running (or last) aggregation
  // wrote; 0 when none.
  int64_t checkpoint_iteration = 0;
  // Failed publication attempts of the current result (0: none).
  int64_t publish_attempts = 0;
  // Why the last finished run stopped training (kNotStopped while the first
  // one runs; GetStatus says "").
  AggregationStopReason stop_reason = AggregationStopReason::kNotStopped;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_AGGREGATION_STATE_H_
