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
//  - before the first version: when every client has an upload (and >=
//    quorum of them are aggregated), or when the deadline (> 0) has passed
//    since the round opened with >= quorum aggregated uploads;
//  - afterwards: as soon as an aggregated upload is not covered by the
//    latest version (a straggler, or a newer round of a client), given >=
//    quorum aggregated uploads.
// `included_rounds` maps client id -> accepted round of the uploads to
// aggregate (those the exclusion policy keeps); `num_uploaded` counts every
// client with an accepted upload, excluded ones too.
TriggerDecision DecideAggregation(
    int num_clients, int quorum, int64_t upload_deadline_seconds,
    const std::map<std::string, int64_t>& included_rounds, int num_uploaded,
    const GlobalVersion* latest, absl::Duration since_round_opened);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_AGGREGATION_TRIGGER_H_
