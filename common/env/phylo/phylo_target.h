#ifndef EPGFN_COMMON_ENV_PHYLO_PHYLO_TARGET_H_
#define EPGFN_COMMON_ENV_PHYLO_PHYLO_TARGET_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"

namespace epgfn {

// The phylo environment and one reward on it, built through the environment
// registry exactly as the client daemon and the experiments build them. The
// one place in this folder that knows the registry's reward API, so that
// the MCMC reference, its tests and benchmarks follow it in one edit.
struct PhyloTarget {
  std::unique_ptr<Environment> environment;
  std::unique_ptr<LogReward> reward;
  std::vector<std::string> taxa;
  at::Tensor site_masks;  // [n, S] the 4-bit nucleotide masks the reward reads

  int num_taxa() const { return static_cast<int>(taxa.size()); }
};

// environment_config: e.g. "phylo:alignment=PATH,taxa=a;b;c";
// reward_config: e.g. "jc69:temperature=20" or "parsimony" (full data: one
// client).
absl::StatusOr<PhyloTarget> MakePhyloTarget(
    const std::string& environment_config, const std::string& reward_config);

// The Fitch parsimony scores of terminal states under a "parsimony" reward
// with lambda = 1 on the full data, recovered from its log-reward
//   log R = -log((2n - 3)!!) - score
// (uniform prior, one client) and rounded to the integer they are.
absl::StatusOr<std::vector<int64_t>> ParsimonyScores(
    const PhyloTarget& parsimony_target, const at::Tensor& states);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_PHYLO_TARGET_H_
