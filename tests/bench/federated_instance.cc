#include "tests/bench/federated_instance.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/env/environment_registry.h"
#include "common/eval/sample_quality.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// The Bayesian workloads' rewards take their data and shape from
// --reward_params; the synthetic ones are "client" rewards with a seed.
std::string RewardParams(const EnvironmentConfig& config,
                         const std::string& flag) {
  if (!flag.empty()) return flag;
  if (config.kind == "phylo") {
    return "alignment=common/env/phylo/testdata/primates.nex,temperature=20";
  }
  if (config.kind == "dag") {
    return "synthetic=1,samples=60,edge_prob=0.5,data_seed=2";
  }
  return "";
}

std::string ClientRewardSpec(const EnvironmentConfig& config, int index,
                             int count, const InstanceOptions& options) {
  std::string kind = "client";
  if (config.kind == "phylo") kind = "jc69";
  if (config.kind == "dag") kind = "bge";
  std::string spec = absl::StrCat(kind, ":index=", index, ",count=", count);
  if (kind == "client" && config.kind != "hypergrid") {
    absl::StrAppend(&spec, ",seed=", options.seed);
  }
  const std::string params = RewardParams(config, options.reward_params);
  if (!params.empty()) absl::StrAppend(&spec, ",", params);
  return spec;
}

bool HasFullDataReward(const EnvironmentConfig& config) {
  return config.kind == "phylo" || config.kind == "dag";
}

std::string DefaultSpec(const std::string& kind) {
  if (kind == "hypergrid") return "hypergrid:dim=2,side=8";
  if (kind == "multiset") return "multiset:items=5,size=4";
  if (kind == "sequence") return "sequence:length=4,vocab=4";
  if (kind == "phylo") {
    // The first 6 taxa of primates.nex (RewardParams names the file).
    return "phylo:taxa=Tarsius_syrichta;Lemur_catta;Homo_sapiens;Pan;Gorilla;"
           "Pongo";
  }
  if (kind == "dag") return "dag:nodes=4";
  return kind;
}

// The full-data posterior (one client holding all the data), on the same
// enumeration as the product target.
absl::Status AddFullDataPosterior(const InstanceOptions& options,
                                  Instance& instance) {
  const Environment& environment = *instance.environment;
  instance.full_reward_spec =
      ClientRewardSpec(environment.config(), 0, 1, options);
  ASSIGN_OR_RETURN(
      std::unique_ptr<LogReward> reward,
      MakeSplitLogReward(environment,
                         *RewardConfig::Parse(instance.full_reward_spec)));
  ASSIGN_OR_RETURN(TerminalDistribution distribution,
                   ExactTargetDistribution(environment, *reward));
  if (!distribution.states.equal(instance.target.states)) {
    return absl::InternalError("enumerations differ between rewards");
  }
  instance.full = std::move(distribution);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Instance> BuildInstance(const InstanceOptions& options) {
  Instance instance;
  ASSIGN_OR_RETURN(const EnvironmentConfig config,
                   EnvironmentConfig::Parse(DefaultSpec(options.env)));
  ASSIGN_OR_RETURN(instance.environment, MakeEnvironment(config));
  const Environment& environment = *instance.environment;
  std::vector<const LogReward*> factors;
  for (int i = 0; i < options.clients; ++i) {
    ASSIGN_OR_RETURN(
        std::unique_ptr<LogReward> reward,
        MakeSplitLogReward(environment, *RewardConfig::Parse(ClientRewardSpec(
                                            environment.config(), i,
                                            options.clients, options))));
    factors.push_back(reward.get());
    instance.rewards.push_back(std::move(reward));
  }
  instance.product = std::make_unique<ProductOfRewards>(factors);
  ASSIGN_OR_RETURN(instance.target,
                   ExactTargetDistribution(environment, *instance.product));
  instance.target_log_reward =
      (*instance.product)(instance.target.states).to(torch::kFloat64);
  instance.modes = ModeStates(instance.target, 0.5);
  if (HasFullDataReward(environment.config())) {
    RETURN_IF_ERROR(AddFullDataPosterior(options, instance));
  }
  return instance;
}

}  // namespace epgfn
