#ifndef EPGFN_COMMON_ENV_ENVIRONMENT_TESTING_H_
#define EPGFN_COMMON_ENV_ENVIRONMENT_TESTING_H_

#include <cstdint>

#include "common/env/environment.h"

namespace epgfn {

struct StateGraphCounts {
  int64_t states = 0;     // reachable from s0
  int64_t terminals = 0;  // reachable states that allow exit
  int64_t edges = 0;      // non-exit transitions
};

// Walks the whole state graph from s0 by breadth-first search and checks,
// with gtest expectations, the contract every Environment must keep:
// every state allows some action; children of allowed actions are states the
// walk accepts (encodings finite and of the right width); backward actions
// undo forward ones exactly (BackwardActionOf, BackwardStep, ForwardActionOf
// agree); only s0 has no parent; no path exceeds max_trajectory_length();
// and the states that allow exit are exactly EnumerateTerminalStates().
StateGraphCounts CheckStateGraph(const Environment& environment);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_ENVIRONMENT_TESTING_H_
