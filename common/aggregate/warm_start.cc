#include "common/aggregate/warm_start.h"

#include "absl/strings/str_cat.h"
#include "common/aggregate/aggregating_balance_target.h"
#include "common/aggregate/average_policies.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<AggregationWarmStart> ParseAggregationWarmStart(
    absl::string_view name) {
  for (AggregationWarmStart warm_start :
       {AggregationWarmStart::kNone, AggregationWarmStart::kClient,
        AggregationWarmStart::kAverage}) {
    if (name == AggregationWarmStartName(warm_start)) return warm_start;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown aggregation warm start '", name,
                   "'; expected none, client or average"));
}

absl::string_view AggregationWarmStartName(AggregationWarmStart warm_start) {
  switch (warm_start) {
    case AggregationWarmStart::kNone:
      return "none";
    case AggregationWarmStart::kClient:
      return "client";
    case AggregationWarmStart::kAverage:
      return "average";
  }
  return "unknown";
}

absl::Status ValidateAggregationWarmStart(AggregationWarmStart warm_start,
                                          bool common_init) {
  if (warm_start == AggregationWarmStart::kAverage && !common_init) {
    return absl::InvalidArgumentError(
        "the 'average' aggregation warm start needs clients that start from "
        "one common initialisation (--common_init): the parameter average of "
        "models trained from different initialisations is no model, their "
        "hidden units are not aligned");
  }
  return absl::OkStatus();
}

absl::StatusOr<const LocalModel*> WarmStartClient(
    const std::vector<LocalModel>& locals) {
  if (locals.empty()) {
    return absl::InvalidArgumentError("a warm start needs local models");
  }
  const LocalModel* heaviest = &locals.front();
  for (const LocalModel& local : locals) {
    if (local.weight > heaviest->weight) heaviest = &local;
  }
  return heaviest;
}

absl::StatusOr<std::optional<PolicyNet>> AggregationWarmStartPolicy(
    AggregationWarmStart warm_start, bool common_init,
    const std::vector<LocalModel>& locals) {
  RETURN_IF_ERROR(ValidateAggregationWarmStart(warm_start, common_init));
  if (warm_start == AggregationWarmStart::kNone) return std::nullopt;
  if (warm_start == AggregationWarmStart::kClient) {
    ASSIGN_OR_RETURN(const LocalModel* client, WarmStartClient(locals));
    return std::optional<PolicyNet>(client->policy);
  }
  ASSIGN_OR_RETURN(PolicyNet average,
                   AveragePolicies(WeightedPoliciesOf(locals)));
  return std::optional<PolicyNet>(average);
}

}  // namespace epgfn
