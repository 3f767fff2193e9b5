#include "common/aggregate/average_policies.h"

#include <torch/types.h>

#include <cmath>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Policy i's weight and layout against policy 0's.
absl::Status CheckAveragedPolicy(const std::vector<WeightedPolicy>& policies,
                                 size_t i) {
  const WeightedPolicy& entry = policies[i];
  if (!entry.policy) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy ", i, " of the average is missing"));
  }
  if (!std::isfinite(entry.weight) || entry.weight < 0.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy ", i, " of the average has weight ", entry.weight,
                     "; weights are finite and non-negative"));
  }
  const PolicyNet& first = policies[0].policy;
  const PolicyNet& policy = entry.policy;
  if (policy->architecture() != first->architecture() ||
      policy->encoding_dim() != first->encoding_dim() ||
      policy->num_forward_actions() != first->num_forward_actions() ||
      policy->num_backward_actions() != first->num_backward_actions() ||
      policy->device() != first->device()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy ", i, " of the average is ", policy->architecture().ToString(),
        " on encodings of width ", policy->encoding_dim(), " with ",
        policy->num_forward_actions(), "/", policy->num_backward_actions(),
        " actions on ", policy->device().str(), "; policy 0 is ",
        first->architecture().ToString(), " on width ", first->encoding_dim(),
        " with ", first->num_forward_actions(), "/",
        first->num_backward_actions(), " actions on ", first->device().str(),
        ": only policies of one layout can be averaged"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PolicyNet> AveragePolicies(
    const std::vector<WeightedPolicy>& policies) {
  if (policies.empty()) {
    return absl::InvalidArgumentError("an average needs at least one policy");
  }
  double total_weight = 0.0;
  for (size_t i = 0; i < policies.size(); ++i) {
    RETURN_IF_ERROR(CheckAveragedPolicy(policies, i));
    total_weight += policies[i].weight;
  }
  if (total_weight <= 0.0) {
    return absl::InvalidArgumentError(
        "every policy of the average has weight 0; at least one must be "
        "positive");
  }
  PolicyNet average = ClonePolicy(policies[0].policy);
  torch::NoGradGuard no_grad;
  std::vector<torch::OrderedDict<std::string, torch::Tensor>> parameters;
  for (const WeightedPolicy& entry : policies) {
    parameters.push_back(entry.policy->named_parameters());
  }
  for (auto& parameter : average->named_parameters()) {
    // Summed in float64 so that the average of equal weights is the weights.
    torch::Tensor sum = torch::zeros_like(parameter.value(), torch::kFloat64);
    for (size_t i = 0; i < policies.size(); ++i) {
      if (policies[i].weight == 0.0) continue;
      sum.add_(parameters[i][parameter.key()].to(torch::kFloat64),
               policies[i].weight);
    }
    parameter.value().copy_(sum / total_weight);
  }
  return average;
}

}  // namespace epgfn
