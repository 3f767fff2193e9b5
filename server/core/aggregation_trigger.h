#ifndef EPGFN_SERVER_CORE_AGGREGATION_TRIGGER_H_
#define EPGFN_SERVER_CORE_AGGREGATION_TRIGGER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace epgfn {

enum class TriggerDecision {
  kIdle,  // The latest version already covers every accepted upload.
  kWait,  // Not enough uploads yet (or the deadline is still ahead).
  kAggregate,
};

// The federation's rules for when to aggregate.
struct TriggerPolicy {
  int num_clients = 0;
  int quorum = 1;
  // 0: no deadline (wait for every client before the first version).
  int64_t upload_deadline_seconds = 0;
  // After the first version: a re-aggregation waits until no upload has
  // been accepted for this long, so that updates of several clients arriving
  // close together make one version rather than one each. Zero: at once.
  absl::Duration settle_window = absl::ZeroDuration();
};

// What the coordinator sees when it asks.
struct TriggerState {
  // Client id -> accepted round of the uploads to aggregate (those the
  // exclusion policy keeps).
  std::map<std::string, int64_t> included_rounds;
  // Every client with an accepted upload, excluded ones too.
  int num_uploaded = 0;
  // Client id -> round aggregated in the latest version; empty optional
  // before the first version.
  std::optional<std::map<std::string, int64_t>> latest_rounds;
  absl::Duration since_round_opened = absl::ZeroDuration();
  // Since the newest accepted upload (InfiniteDuration: none seen).
  absl::Duration since_last_upload = absl::InfiniteDuration();
};

// When to aggregate, as a pure function of the state so it can be tested
// without threads or clocks:
//  - before the first version: when every client has an upload (and >=
//    quorum of them are aggregated), or when the deadline (> 0) has passed
//    since the round opened with >= quorum aggregated uploads;
//  - afterwards: as soon as an aggregated upload is not covered by the
//    latest version (a straggler, or a newer round of a client), given >=
//    quorum aggregated uploads, once settle_window has passed since the
//    newest upload.
TriggerDecision DecideAggregation(const TriggerPolicy& policy,
                                  const TriggerState& state);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_AGGREGATION_TRIGGER_H_
