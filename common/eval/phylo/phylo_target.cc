#include "common/eval/phylo/phylo_target.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/phylo.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<PhyloTarget> MakePhyloTarget(
    const std::string& environment_config, const std::string& reward_config) {
  ASSIGN_OR_RETURN(EnvironmentConfig env_config,
                   EnvironmentConfig::Parse(environment_config));
  ASSIGN_OR_RETURN(RewardConfig reward, RewardConfig::Parse(reward_config));
  PhyloTarget target;
  ASSIGN_OR_RETURN(target.environment, MakeEnvironment(env_config));
  const auto* phylo =
      dynamic_cast<const PhyloEnvironment*>(target.environment.get());
  if (phylo == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", environment_config, "' is not a phylo environment"));
  }
  target.taxa = phylo->taxa();
  target.site_masks = phylo->site_masks();
  ASSIGN_OR_RETURN(target.reward, MakeLogReward(*target.environment, reward));
  return target;
}

absl::StatusOr<std::vector<int64_t>> ParsimonyScores(
    const PhyloTarget& parsimony_target, const at::Tensor& states) {
  torch::NoGradGuard no_grad;
  at::Tensor log_r = (*parsimony_target.reward)(states)
                         .to(torch::kCPU)
                         .to(torch::kFloat64)
                         .contiguous();
  const double log_prior = -LogNumRootedTopologies(parsimony_target.num_taxa());
  std::vector<int64_t> scores;
  for (int64_t r = 0; r < log_r.size(0); ++r) {
    const double score = log_prior - log_r.data_ptr<double>()[r];
    const double rounded = std::round(score);
    // float32 log-rewards near -1e4 are exact to about 1e-3.
    if (!(std::abs(score - rounded) < 0.05)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "log-reward ", log_r.data_ptr<double>()[r],
          " is not -log((2n-3)!!) minus an integer score: is the reward "
          "'parsimony' with lambda=1 on one client?"));
    }
    scores.push_back(static_cast<int64_t>(rounded));
  }
  return scores;
}

}  // namespace epgfn
