#ifndef EPGFN_COMMON_ENV_ENVIRONMENT_CONFIG_H_
#define EPGFN_COMMON_ENV_ENVIRONMENT_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/util/param_map.h"

namespace epgfn {

// Names a state graph: the registered kind plus its parameters. Two models
// are compatible exactly when their EnvironmentConfigs are equal.
struct EnvironmentConfig {
  std::string kind;
  ParamMap params;

  // Parses "kind" or "kind:key=value,key=value".
  static absl::StatusOr<EnvironmentConfig> Parse(absl::string_view text);
  // Canonical form, inverse of Parse.
  std::string ToString() const;
  bool operator==(const EnvironmentConfig& other) const {
    return kind == other.kind && params == other.params;
  }
  bool operator!=(const EnvironmentConfig& other) const {
    return !(*this == other);
  }
};

// Selects one reward on a state graph, e.g. "standard" or
// "client:index=2,count=4,seed=7". Kinds are defined by each environment.
struct RewardConfig {
  std::string kind;
  ParamMap params;

  static absl::StatusOr<RewardConfig> Parse(absl::string_view text);
  std::string ToString() const;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_ENVIRONMENT_CONFIG_H_
