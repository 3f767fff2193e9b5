#ifndef EPGFN_TESTS_BENCH_MODEL_FCS_H_
#define EPGFN_TESTS_BENCH_MODEL_FCS_H_

#include <cstdint>
#include <string>

#include "common/env/environment.h"
#include "common/eval/flow_consistency.h"
#include "common/policy/policy_net.h"

namespace epgfn {

// The benches' FCS of a trained model against the reward it aims at (the
// full-data reward for a centralized model, the product of the client
// rewards for a federated one), with FcsOptions' defaults and a fixed seed,
// as a table cell: "0.0412", or "n/a (<why>)" when the model's pool holds
// fewer distinct objects than a subset.
std::string FcsCell(PolicyNet policy, const Environment& environment,
                    const LogReward& reward, uint64_t seed);

// What the FCS column means, for the line under a table.
std::string FcsLegend(const FcsOptions& options = FcsOptions());

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_MODEL_FCS_H_
