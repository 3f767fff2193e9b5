#ifndef EPGFN_COMMON_AGGREGATE_AVERAGE_POLICIES_H_
#define EPGFN_COMMON_AGGREGATE_AVERAGE_POLICIES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "common/aggregate/aggregating_balance_target.h"
#include "common/policy/policy_net.h"

namespace epgfn {

// The weighted parameter average sum_i w_i theta_i / sum_i w_i of policies of
// one layout (architecture, encoding width, action counts, device), as a new
// policy: a warm start for the global model (issue 14). It is a meaningful
// model only when the policies were trained from one common initialisation
// (otherwise their hidden units are not aligned); that is the caller's to
// know. Refuses (InvalidArgument, naming the policy) no policies, a missing
// policy, another layout, negative or non-finite weights, and all weights 0.
absl::StatusOr<PolicyNet> AveragePolicies(
    const std::vector<WeightedPolicy>& policies);

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_AVERAGE_POLICIES_H_
