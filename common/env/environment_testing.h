#ifndef EPGFN_COMMON_ENV_ENVIRONMENT_TESTING_H_
#define EPGFN_COMMON_ENV_ENVIRONMENT_TESTING_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/env/environment.h"
#include "common/env/environment_config.h"

namespace epgfn {

struct StateGraphCounts {
  int64_t states = 0;     // reachable from s0
  int64_t terminals = 0;  // reachable states that allow exit
  int64_t edges = 0;      // non-exit transitions
};

// Walks the whole state graph from s0 by breadth-first search and checks,
// with gtest expectations, the contract every Environment must keep:
// every state allows some action; children of allowed actions are states the
// walk accepts (encodings finite and of the right width); backward actions
// undo forward ones exactly (BackwardActionOf, BackwardStep, ForwardActionOf
// agree); only s0 has no parent; no path exceeds max_trajectory_length();
// and the states that allow exit are exactly EnumerateTerminalStates().
StateGraphCounts CheckStateGraph(const Environment& environment);

// The reward config `text`, expected to parse.
RewardConfig ParseRewardConfig(const std::string& text);

// The environment `config` names, built through the registry (its kind's
// library must be linked), expected to build.
std::unique_ptr<Environment> MakeTestEnvironment(const std::string& config);

// Expects `status` (of parsing `text`) to be InvalidArgument and to name
// `name`, the parameter at fault.
void ExpectRefusedNaming(const absl::Status& status, const std::string& text,
                         const std::string& name);

// Expects the registry to make `kind` with no parameters and as
// `spelled_out` (its defaults written out) alike, with the canonical config
// `canonical`, and its "utility" reward to describe itself by the kind.
void ExpectCanonicalRegistration(const std::string& kind,
                                 const std::string& spelled_out,
                                 const std::string& canonical);

// Expects the "utility" and "client" rewards of `environment` to refuse
// bad parameters, and the registry to refuse an unknown reward kind, each
// by name (the rewards of utility_reward.h and client_share.h).
void ExpectUtilityRewardsRefuseBadParameters(const Environment& environment);

// Expects the "client" rewards of 3 clients (client_share.h), evaluated on
// every terminal state, to repeat for a seed and to differ between indices
// and between seeds.
void ExpectClientRewardsDifferByIndexAndRepeatForASeed(
    const Environment& environment);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_ENVIRONMENT_TESTING_H_
