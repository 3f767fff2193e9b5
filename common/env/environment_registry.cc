#include "common/env/environment_registry.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

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
    for (const auto& [name, factory] : registry.factories) kinds.push_back(name);
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
    const Environment& environment, const RewardConfig& config) {
  absl::StatusOr<EnvironmentFactory> factory =
      FindFactory(environment.config().kind);
  if (!factory.ok()) return factory.status();
  return factory->make_reward(environment, config);
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
