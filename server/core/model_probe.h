#ifndef EPGFN_SERVER_CORE_MODEL_PROBE_H_
#define EPGFN_SERVER_CORE_MODEL_PROBE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"

namespace epgfn {

// ImportModel proves that every weight is finite, but finite weights can
// still overflow to Inf/NaN outputs (huge magnitudes), which would poison the
// aggregation target. This runs the policy on s0 and on states reached by
// uniformly random walks (independent of the model, so a broken model cannot
// steer the probe) and refuses (InvalidArgument) any non-finite output.
absl::Status CheckOutputsFinite(PolicyNet& policy,
                                const Environment& environment, uint64_t seed,
                                int64_t num_walks = 16);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_MODEL_PROBE_H_
