#include "common/env/environment_registry.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/env/federated_reward.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

struct Registry {
  absl::Mutex mutex;
  std::map<std::string, EnvironmentFactory> factories ABSL_GUARDED_BY(mutex);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

absl::StatusOr<EnvironmentFactory> FindFactory(const std::string& kind) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mutex);
  auto it = registry.factories.find(kind);
  if (it == registry.factories.end()) {
    std::vector<std::string> kinds;
    for (const auto& [name, factory] : registry.factories)
      kinds.push_back(name);
    return absl::NotFoundError(
        absl::StrCat("unknown environment kind '", kind,
                     "'; registered: ", absl::StrJoin(kinds, ", ")));
  }
  return it->second;
}

}  // namespace

bool RegisterEnvironment(const std::string& kind, EnvironmentFactory factory) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mutex);
  return registry.factories.emplace(kind, std::move(factory)).second;
}

absl::StatusOr<std::unique_ptr<Environment>> MakeEnvironment(
    const EnvironmentConfig& config) {
  absl::StatusOr<EnvironmentFactory> factory = FindFactory(config.kind);
  if (!factory.ok()) return factory.status();
  return factory->make_environment(config);
}

absl::StatusOr<std::unique_ptr<LogReward>> MakeLogReward(
    const Environment& environment, const RewardConfig& config,
    const RewardContext& context) {
  ASSIGN_OR_RETURN(const EnvironmentFactory factory,
                   FindFactory(environment.config().kind));
  ASSIGN_OR_RETURN(const FederatedRewardParams federated,
                   ReadFederatedRewardParams(config, context));
  ASSIGN_OR_RETURN(
      RewardParts parts,
      factory.make_reward(environment, federated.environment_config));
  return ComposeFederatedReward(std::move(parts), context,
                                federated.temperature);
}

namespace {

// The parts of a streaming block's reward and its temperature. The context
// check of `count` is skipped by reading the parameters for a federation of
// exactly `count` members (count is the number of blocks here).
absl::StatusOr<std::unique_ptr<LogReward>> MakeStreamingReward(
    const Environment& environment, const RewardConfig& config,
    const RewardContext& context, bool keep_prior) {
  if (context.num_clients < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a federation needs at least one client, got ", context.num_clients));
  }
  ASSIGN_OR_RETURN(const EnvironmentFactory factory,
                   FindFactory(environment.config().kind));
  RewardContext blocks;
  ASSIGN_OR_RETURN(blocks.num_clients,
                   config.params.GetInt("count", 1, 1, int64_t{1} << 40));
  ASSIGN_OR_RETURN(const FederatedRewardParams federated,
                   ReadFederatedRewardParams(config, blocks));
  ASSIGN_OR_RETURN(
      RewardParts parts,
      factory.make_reward(environment, federated.environment_config));
  if (!keep_prior) parts.log_prior.reset();
  return ComposeFederatedReward(std::move(parts), context,
                                federated.temperature);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LogReward>> MakeStreamingInitialReward(
    const Environment& environment, const RewardConfig& first_data,
    const RewardContext& context) {
  return MakeStreamingReward(environment, first_data, context,
                             /*keep_prior=*/true);
}

absl::StatusOr<std::unique_ptr<LogReward>> MakeStreamingLikelihood(
    const Environment& environment, const RewardConfig& new_data,
    const RewardContext& context) {
  return MakeStreamingReward(environment, new_data, context,
                             /*keep_prior=*/false);
}

absl::StatusOr<std::unique_ptr<LogReward>> MakeSplitLogReward(
    const Environment& environment, const RewardConfig& config) {
  RewardContext context;
  ASSIGN_OR_RETURN(context.num_clients,
                   config.params.GetInt("count", 1, 1, int64_t{1} << 40));
  return MakeLogReward(environment, config, context);
}

std::vector<std::string> RegisteredEnvironmentKinds() {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mutex);
  std::vector<std::string> kinds;
  for (const auto& [name, factory] : registry.factories) kinds.push_back(name);
  return kinds;
}

std::string EnvironmentHelp() {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mutex);
  std::string help;
  for (const auto& [name, factory] : registry.factories) {
    absl::StrAppend(&help, "  ", name, ": ", factory.help, "\n");
  }
  return help;
}

}  // namespace epgfn
