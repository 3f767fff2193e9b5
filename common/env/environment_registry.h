#ifndef EPGFN_COMMON_ENV_ENVIRONMENT_REGISTRY_H_
#define EPGFN_COMMON_ENV_ENVIRONMENT_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/environment_config.h"
#include "common/env/reward_parts.h"

namespace epgfn {

// What an environment folder registers: how to build the state graph from its
// parameters and how to build the two parts of any of its rewards on that
// graph.
struct EnvironmentFactory {
  std::string help;  // One line: parameters and reward kinds.
  std::function<absl::StatusOr<std::unique_ptr<Environment>>(
      const EnvironmentConfig&)>
      make_environment;
  // Receives the reward's params without the federation-level ones
  // (`temperature`), which MakeLogReward reads itself.
  std::function<absl::StatusOr<RewardParts>(const Environment&,
                                            const RewardConfig&)>
      make_reward;
};

// The factory of an environment class `Env` that has
//   static absl::StatusOr<std::unique_ptr<Env>> Create(const
//   EnvironmentConfig&)
// and a reward maker callable as make_reward(const Env&, const RewardConfig&)
// returning absl::StatusOr<RewardParts>.
// Rewards are only ever made for an environment of the same kind; the check
// guards against an Environment from elsewhere that reuses the kind's name.
template <typename Env, typename MakeReward>
EnvironmentFactory TypedEnvironmentFactory(std::string help,
                                           MakeReward make_reward) {
  EnvironmentFactory factory;
  factory.help = std::move(help);
  factory.make_environment = [](const EnvironmentConfig& config)
      -> absl::StatusOr<std::unique_ptr<Environment>> {
    absl::StatusOr<std::unique_ptr<Env>> environment = Env::Create(config);
    if (!environment.ok()) return environment.status();
    return std::unique_ptr<Environment>(std::move(environment).value());
  };
  factory.make_reward =
      [make_reward](const Environment& environment,
                    const RewardConfig& config) -> absl::StatusOr<RewardParts> {
    const auto* typed = dynamic_cast<const Env*>(&environment);
    if (typed == nullptr) {
      return absl::InvalidArgumentError(
          "reward '" + config.ToString() + "' requested for environment '" +
          environment.config().ToString() + "', which is of another class");
    }
    return make_reward(*typed, config);
  };
  return factory;
}

// Registers `factory` under `kind`; used through EPGFN_REGISTER_ENVIRONMENT.
bool RegisterEnvironment(const std::string& kind, EnvironmentFactory factory);

absl::StatusOr<std::unique_ptr<Environment>> MakeEnvironment(
    const EnvironmentConfig& config);
// One client's reward, composed from the environment's RewardParts as
//   log R_i(x) = (log prior(x) / num_clients + log likelihood_i(x)) / T,
// where T is the reward's `temperature` parameter (default 1; it flattens
// posteriors that real data make very peaked). The product of the clients'
// rewards is then the (tempered) posterior prior(x) prod_i likelihood_i(x).
// A reward that splits one shared dataset (`index=i,count=N`, experiment
// binaries only) must have count == num_clients. `environment` must come
// from MakeEnvironment.
absl::StatusOr<std::unique_ptr<LogReward>> MakeLogReward(
    const Environment& environment, const RewardConfig& config,
    const RewardContext& context);

// For experiment binaries and tests that split ONE dataset among simulated
// clients with `index=i,count=N`: MakeLogReward for a federation of N
// clients (1 without `count`). A deployed client's N comes from the
// federation spec instead, never from what it types.
absl::StatusOr<std::unique_ptr<LogReward>> MakeSplitLogReward(
    const Environment& environment, const RewardConfig& config);

// Streaming Bayes (issue 13: today's posterior is tomorrow's prior). A
// stream's first model is trained on MakeStreamingInitialReward of its first
// block; each later block's update adds MakeStreamingLikelihood of that block
// to the previous model's target, so that after t blocks the target is
//   (log prior(x) / num_clients + sum_{s<=t} log likelihood(D_s | x)) / T.
// In both, `count` (experiments' `index=i,count=N`) is the number of blocks
// one dataset is cut into, not the federation's size, so it is not checked
// against context.num_clients; `temperature` is read as in MakeLogReward
// (give every block the client's T).
//
// The first block's reward: MakeLogReward without the `count` check.
absl::StatusOr<std::unique_ptr<LogReward>> MakeStreamingInitialReward(
    const Environment& environment, const RewardConfig& first_data,
    const RewardContext& context);
// The new block's likelihood only, log likelihood(D_t | x) / T: the prior's
// share is already in the first model and must not be counted again.
absl::StatusOr<std::unique_ptr<LogReward>> MakeStreamingLikelihood(
    const Environment& environment, const RewardConfig& new_data,
    const RewardContext& context);

std::vector<std::string> RegisteredEnvironmentKinds();
std::string EnvironmentHelp();

}  // namespace epgfn

// Adds an environment to the registry at static-initialisation time. The
// folder's cc_library must set alwayslink = True and be listed in
// //common/registry:all_environments (the one registry line).
#define EPGFN_REGISTER_ENVIRONMENT(kind, factory)   \
  static const bool epgfn_registered_environment_ = \
      ::epgfn::RegisterEnvironment(kind, factory)

#endif  // EPGFN_COMMON_ENV_ENVIRONMENT_REGISTRY_H_
