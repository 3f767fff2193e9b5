#include "server/core/aggregation_trigger.h"

namespace epgfn {
namespace {

bool CoveredBy(const std::map<std::string, int64_t>& accepted_rounds,
               const std::map<std::string, int64_t>& latest_rounds) {
  for (const auto& [client_id, round] : accepted_rounds) {
    auto aggregated = latest_rounds.find(client_id);
    if (aggregated == latest_rounds.end() || aggregated->second < round) {
      return false;
    }
  }
  return true;
}

}  // namespace

TriggerDecision DecideAggregation(const TriggerPolicy& policy,
                                  const TriggerState& state) {
  const int uploads = static_cast<int>(state.included_rounds.size());
  if (state.latest_rounds) {
    if (CoveredBy(state.included_rounds, *state.latest_rounds)) {
      return TriggerDecision::kIdle;
    }
    if (uploads < policy.quorum) return TriggerDecision::kWait;
    return state.since_last_upload >= policy.settle_window
               ? TriggerDecision::kAggregate
               : TriggerDecision::kWait;
  }
  if (uploads == 0 || uploads < policy.quorum) return TriggerDecision::kWait;
  if (state.num_uploaded >= policy.num_clients) {
    return TriggerDecision::kAggregate;
  }
  if (policy.upload_deadline_seconds > 0 &&
      state.since_round_opened >=
          absl::Seconds(policy.upload_deadline_seconds)) {
    return TriggerDecision::kAggregate;
  }
  return TriggerDecision::kWait;
}

}  // namespace epgfn
