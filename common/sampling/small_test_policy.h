#ifndef EPGFN_COMMON_SAMPLING_SMALL_TEST_POLICY_H_
#define EPGFN_COMMON_SAMPLING_SMALL_TEST_POLICY_H_

// The sampling and estimation tests' environments and small (32-wide)
// policies.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "common/env/environment_registry.h"
#include "common/policy/policy_net.h"
#include "gtest/gtest.h"

namespace epgfn {

inline std::unique_ptr<Environment> MakeEnv(const std::string& spec) {
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse(spec));
  EXPECT_TRUE(environment.ok()) << environment.status();
  return std::move(environment).value();
}

inline PolicyNet MakeNet(const Environment& environment, bool learned_backward,
                         uint64_t seed) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 32;
  architecture.learned_backward = learned_backward;
  return *MakePolicy(environment, architecture, seed, torch::kCPU);
}

}  // namespace epgfn

#endif  // EPGFN_COMMON_SAMPLING_SMALL_TEST_POLICY_H_
