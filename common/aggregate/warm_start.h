#ifndef EPGFN_COMMON_AGGREGATE_WARM_START_H_
#define EPGFN_COMMON_AGGREGATE_WARM_START_H_

// Where an aggregation's global model starts when there is no earlier
// global version to start from: the server's first aggregation, and
// federated_experiment (issue 14: time to accuracy with warm starts). A
// warm start from a local model starts the global model at roughly half
// the TV to the local product of a fresh initialisation (BENCHMARKS.md,
// "Time to accuracy: warm starts").

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/aggregate/local_model.h"
#include "common/policy/policy_net.h"

namespace epgfn {

enum class AggregationWarmStart {
  kNone,     // a fresh seeded initialisation (the aggregator's own)
  kClient,   // a copy of the heaviest client's local model
  kAverage,  // the weighted parameter average of the local models
};

// "none", "client" or "average"; InvalidArgument for anything else.
absl::StatusOr<AggregationWarmStart> ParseAggregationWarmStart(
    absl::string_view name);
absl::string_view AggregationWarmStartName(AggregationWarmStart warm_start);

// InvalidArgument for `average` unless every client started from one common
// initialisation (`common_init`): the average of models trained from
// different initialisations is no model, their hidden units are not aligned.
absl::Status ValidateAggregationWarmStart(AggregationWarmStart warm_start,
                                          bool common_init);

// The local model a kClient warm start copies: the one with the largest
// LocalModel::weight, the first of those in order on a tie (with equal
// weights, the first client). InvalidArgument when `locals` is empty.
absl::StatusOr<const LocalModel*> WarmStartClient(
    const std::vector<LocalModel>& locals);

// The aggregator's warm start for `locals`: nullopt for kNone, the policy of
// WarmStartClient() for kClient (the aggregator copies it), the average
// weighted by LocalModel::weight for kAverage (AveragePolicies' refusals
// included).
absl::StatusOr<std::optional<PolicyNet>> AggregationWarmStartPolicy(
    AggregationWarmStart warm_start, bool common_init,
    const std::vector<LocalModel>& locals);

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_WARM_START_H_
