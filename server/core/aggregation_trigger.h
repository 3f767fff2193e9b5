#ifndef EPGFN_SERVER_CORE_AGGREGATION_TRIGGER_H_
#define EPGFN_SERVER_CORE_AGGREGATION_TRIGGER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "server/core/model_store.h"

namespace epgfn {

enum class TriggerDecision {
  kIdle,  // The latest version already covers every accepted upload.
  kWait,  // Not enough uploads yet (or the deadline is still ahead).
  kAggregate,
};

// When to aggregate, as a pure function of the state so it can be tested
// without threads or clocks:
//  - before the first version: when every client has an upload, or when the
//    deadline (> 0) has passed since the round opened with >= quorum
//    uploads;
//  - afterwards: as soon as an upload is not covered by the latest version
//    (a straggler, or a newer round of a client), given >= quorum uploads.
// `accepted_rounds` maps client id -> accepted round.
TriggerDecision DecideAggregation(
    int num_clients, int quorum, int64_t upload_deadline_seconds,
    const std::map<std::string, int64_t>& accepted_rounds,
    const GlobalVersion* latest, absl::Duration since_round_opened);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_AGGREGATION_TRIGGER_H_
