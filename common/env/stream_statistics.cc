#include "common/env/stream_statistics.h"

#include <map>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/env/federated_reward.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

struct Hooks {
  absl::Mutex mutex;
  std::map<std::string, StreamStatisticsHook> by_kind ABSL_GUARDED_BY(mutex);
};

Hooks& GetHooks() {
  static Hooks* const hooks = new Hooks;
  return *hooks;
}

std::optional<StreamStatisticsHook> FindHook(const Environment& environment) {
  Hooks& hooks = GetHooks();
  absl::MutexLock lock(&hooks.mutex);
  auto it = hooks.by_kind.find(environment.config().kind);
  if (it == hooks.by_kind.end()) return std::nullopt;
  return it->second;
}

}  // namespace

bool RegisterStreamStatistics(const std::string& kind,
                              StreamStatisticsHook hook) {
  Hooks& hooks = GetHooks();
  absl::MutexLock lock(&hooks.mutex);
  return hooks.by_kind.emplace(kind, std::move(hook)).second;
}

std::string StreamStatisticsParam(const Environment& environment) {
  std::optional<StreamStatisticsHook> hook = FindHook(environment);
  return hook.has_value() ? hook->given_param : "";
}

absl::StatusOr<std::optional<std::string>> StreamStatistics(
    const Environment& environment, const RewardConfig& config) {
  std::optional<StreamStatisticsHook> hook = FindHook(environment);
  if (!hook.has_value()) return std::nullopt;
  // As MakeStreamingLikelihood reads them: `count` is the number of blocks.
  RewardContext blocks;
  ASSIGN_OR_RETURN(blocks.num_clients,
                   config.params.GetInt("count", 1, 1, int64_t{1} << 40));
  ASSIGN_OR_RETURN(const FederatedRewardParams federated,
                   ReadFederatedRewardParams(config, blocks));
  return hook->of(environment, federated.environment_config);
}

}  // namespace epgfn
