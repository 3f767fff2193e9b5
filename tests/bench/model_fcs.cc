#include "tests/bench/model_fcs.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/eval/flow_consistency.h"

namespace epgfn {

std::string FcsCell(PolicyNet policy, const Environment& environment,
                    const LogReward& reward, uint64_t seed) {
  RandomSource random(seed);
  const absl::StatusOr<double> fcs =
      SampledFlowConsistency(policy, environment, reward, FcsOptions{}, random);
  if (!fcs.ok()) return absl::StrCat("n/a (", fcs.status().message(), ")");
  return absl::StrFormat("%.4f", *fcs);
}

std::string FcsLegend(const FcsOptions& options) {
  return absl::StrFormat(
      "FCS (Flow Consistency in Subgraphs, common/eval/flow_consistency.h; 0 "
      "best, 1 worst): mean over %d random subsets of %d distinct objects, "
      "from a pool of %d on-policy samples, of the TV between the model's "
      "p_T (estimated with %d backward samples) and the reward it aims at, "
      "both restricted to the subset.",
      options.num_subsets, options.subset_size, options.num_samples,
      options.num_backward_samples);
}

}  // namespace epgfn
