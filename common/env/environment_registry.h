#ifndef EPGFN_COMMON_ENV_ENVIRONMENT_REGISTRY_H_
#define EPGFN_COMMON_ENV_ENVIRONMENT_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/environment_config.h"

namespace epgfn {

// What an environment folder registers: how to build the state graph from its
// parameters and how to build any of its rewards on that graph.
struct EnvironmentFactory {
  std::string help;  // One line: parameters and reward kinds.
  std::function<absl::StatusOr<std::unique_ptr<Environment>>(
      const EnvironmentConfig&)>
      make_environment;
  std::function<absl::StatusOr<std::unique_ptr<LogReward>>(
      const Environment&, const RewardConfig&)>
      make_reward;
};

// Registers `factory` under `kind`; used through EPGFN_REGISTER_ENVIRONMENT.
bool RegisterEnvironment(const std::string& kind, EnvironmentFactory factory);

absl::StatusOr<std::unique_ptr<Environment>> MakeEnvironment(
    const EnvironmentConfig& config);
// `environment` must come from MakeEnvironment.
absl::StatusOr<std::unique_ptr<LogReward>> MakeLogReward(
    const Environment& environment, const RewardConfig& config);

std::vector<std::string> RegisteredEnvironmentKinds();
std::string EnvironmentHelp();

}  // namespace epgfn

// Adds an environment to the registry at static-initialisation time. The
// folder's cc_library must set alwayslink = True and be listed in
// //common/env:all_environments (the one registry line).
#define EPGFN_REGISTER_ENVIRONMENT(kind, factory)      \
  static const bool epgfn_registered_environment_ = \
      ::epgfn::RegisterEnvironment(kind, factory)

#endif  // EPGFN_COMMON_ENV_ENVIRONMENT_REGISTRY_H_
