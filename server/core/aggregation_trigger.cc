#include "server/core/aggregation_trigger.h"

namespace epgfn {
namespace {

bool CoveredBy(const std::map<std::string, int64_t>& accepted_rounds,
               const GlobalVersion& latest) {
  for (const auto& [client_id, round] : accepted_rounds) {
    bool covered = false;
    for (size_t i = 0; i < latest.client_ids.size(); ++i) {
      if (latest.client_ids[i] == client_id &&
          i < latest.client_rounds.size() && latest.client_rounds[i] >= round) {
        covered = true;
        break;
      }
    }
    if (!covered) return false;
  }
  return true;
}

}  // namespace

TriggerDecision DecideAggregation(
    int num_clients, int quorum, int64_t upload_deadline_seconds,
    const std::map<std::string, int64_t>& included_rounds, int num_uploaded,
    const GlobalVersion* latest, absl::Duration since_round_opened) {
  const int uploads = static_cast<int>(included_rounds.size());
  if (latest != nullptr) {
    if (CoveredBy(included_rounds, *latest)) return TriggerDecision::kIdle;
    return uploads >= quorum ? TriggerDecision::kAggregate
                             : TriggerDecision::kWait;
  }
  if (uploads == 0 || uploads < quorum) return TriggerDecision::kWait;
  if (num_uploaded >= num_clients) return TriggerDecision::kAggregate;
  if (upload_deadline_seconds > 0 &&
      since_round_opened >= absl::Seconds(upload_deadline_seconds)) {
    return TriggerDecision::kAggregate;
  }
  return TriggerDecision::kWait;
}

}  // namespace epgfn
