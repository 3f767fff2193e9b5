#include "server/core/aggregation_state.h"

namespace epgfn {
namespace {

// The phases the trigger loop moves between while nothing runs.
bool IsResting(AggregationPhase phase) {
  switch (phase) {
    case AggregationPhase::kWaitingForUploads:
    case AggregationPhase::kIdle:
    case AggregationPhase::kFailed:
    case AggregationPhase::kAllClientsExcluded:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::string_view AggregationPhaseName(AggregationPhase phase) {
  switch (phase) {
    case AggregationPhase::kWaitingForUploads:
      return "waiting_for_uploads";
    case AggregationPhase::kIdle:
      return "idle";
    case AggregationPhase::kRunning:
      return "running";
    case AggregationPhase::kPublishing:
      return "publishing";
    case AggregationPhase::kPublishRetrying:
      return "publish_retrying";
    case AggregationPhase::kFailed:
      return "failed";
    case AggregationPhase::kAllClientsExcluded:
      return "all_clients_excluded";
  }
  return "unknown";
}

bool IsAllowedTransition(AggregationPhase from, AggregationPhase to) {
  if (from == to) return true;
  if (IsResting(from)) return IsResting(to) || to == AggregationPhase::kRunning;
  switch (from) {
    case AggregationPhase::kRunning:
      return IsResting(to) || to == AggregationPhase::kPublishing;
    case AggregationPhase::kPublishing:
    case AggregationPhase::kPublishRetrying:
      // A shutdown while publishing leaves the phase as it is; an export
      // that throws past its own guard ends as failed.
      return to == AggregationPhase::kPublishRetrying ||
             to == AggregationPhase::kIdle || to == AggregationPhase::kFailed;
    default:
      return false;  // the resting phases are handled above
  }
}

}  // namespace epgfn
