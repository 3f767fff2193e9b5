#ifndef EPGFN_TESTS_BENCH_AGGREGATION_WARM_START_H_
#define EPGFN_TESTS_BENCH_AGGREGATION_WARM_START_H_

// Where federated_experiment's global model starts (issue 14: time to
// accuracy with warm starts).

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
  kClient,   // a copy of the first client's local model
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

// The aggregator's warm start for `locals`: nullopt for kNone, the first
// client's policy for kClient (the aggregator copies it), the average
// weighted by LocalModel::weight for kAverage (AveragePolicies' refusals
// included).
absl::StatusOr<std::optional<PolicyNet>> AggregationWarmStartPolicy(
    AggregationWarmStart warm_start, bool common_init,
    const std::vector<LocalModel>& locals);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_AGGREGATION_WARM_START_H_
