#ifndef EPGFN_COMMON_POLICY_POLICY_TESTING_H_
#define EPGFN_COMMON_POLICY_POLICY_TESTING_H_

#include <cstdint>

#include "common/policy/policy_net.h"

namespace epgfn {

// A small policy with every head (learned p_B and state flow), for tests
// that must cover all of a policy's parameters and outputs.
inline PolicyArchitecture AllHeadsTestArchitecture(int64_t hidden_layers = 3) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 32;
  architecture.hidden_layers = hidden_layers;
  architecture.learned_backward = true;
  architecture.state_flow = true;
  return architecture;
}

}  // namespace epgfn

#endif  // EPGFN_COMMON_POLICY_POLICY_TESTING_H_
