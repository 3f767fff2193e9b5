#include "common/env/phylo/phylo_target.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/client_alignment.h"
#include "common/env/phylo/phylo.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<PhyloTarget> MakePhyloTarget(
    const std::string& environment_config, const std::string& reward_config) {
  ASSIGN_OR_RETURN(EnvironmentConfig env_config,
                   EnvironmentConfig::Parse(environment_config));
  ASSIGN_OR_RETURN(RewardConfig reward, RewardConfig::Parse(reward_config));
  // The reference holds all the data: the alignment named here goes to the
  // reward (the environment names taxa only), and num_taxa=k picks the
  // file's first k taxa.
  const std::string path = env_config.params.GetString("alignment", "");
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", environment_config, "' names no alignment for the reference"));
  }
  ASSIGN_OR_RETURN(Alignment alignment, ReadAlignment(path));
  std::vector<std::string> taxa;
  if (env_config.params.Has("taxa")) {
    taxa = absl::StrSplit(env_config.params.GetString("taxa", ""), ';');
  } else {
    ASSIGN_OR_RETURN(const int64_t count,
                     env_config.params.GetInt("num_taxa", alignment.num_taxa(),
                                              2, alignment.num_taxa()));
    taxa.assign(alignment.taxa.begin(), alignment.taxa.begin() + count);
  }
  EnvironmentConfig names_only{"phylo", {}};
  names_only.params.Set("taxa", absl::StrJoin(taxa, ";"));
  reward.params.Set("alignment", path);
  PhyloTarget target;
  ASSIGN_OR_RETURN(target.environment, MakeEnvironment(names_only));
  target.taxa = taxa;
  ASSIGN_OR_RETURN(ClientAlignment matched,
                   MatchAlignmentToTaxa(alignment, taxa, path));
  target.site_masks = matched.masks;
  // Full data: one client, so the whole prior and every site.
  ASSIGN_OR_RETURN(target.reward,
                   MakeLogReward(*target.environment, reward, RewardContext{}));
  return target;
}

absl::StatusOr<std::vector<int64_t>> ParsimonyScores(
    const PhyloTarget& parsimony_target, const at::Tensor& states) {
  torch::NoGradGuard no_grad;
  at::Tensor log_r = parsimony_target.reward->LogRewardFloat64(states)
                         .to(torch::kCPU)
                         .to(torch::kFloat64)
                         .contiguous();
  const double log_prior = -LogNumRootedTopologies(parsimony_target.num_taxa());
  std::vector<int64_t> scores;
  for (int64_t r = 0; r < log_r.size(0); ++r) {
    const double score = log_prior - log_r.data_ptr<double>()[r];
    const double rounded = std::round(score);
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
