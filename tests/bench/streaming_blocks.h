#ifndef EPGFN_TESTS_BENCH_STREAMING_BLOCKS_H_
#define EPGFN_TESTS_BENCH_STREAMING_BLOCKS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"

namespace epgfn {

// The streaming benchmark's data: `alignment`'s sites cut into `blocks`
// contiguous blocks, as JC69 rewards at `temperature`. Block 0 is the first
// model's reward (prior and likelihood, MakeStreamingInitialReward); every
// later one is its block's likelihood alone (MakeStreamingLikelihood).
// Prints one line per block.
absl::StatusOr<std::vector<std::unique_ptr<LogReward>>> MakeBlockRewards(
    const Environment& environment, int blocks, const std::string& alignment,
    double temperature);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_STREAMING_BLOCKS_H_
