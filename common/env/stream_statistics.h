#ifndef EPGFN_COMMON_ENV_STREAM_STATISTICS_H_
#define EPGFN_COMMON_ENV_STREAM_STATISTICS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/environment_config.h"

namespace epgfn {

// A reward that integrates its parameters out (BGe) streams exactly only when
// each new block is scored conditioned on every earlier row, which a
// streaming client keeps as a small statistics file instead of the rows
// (see README "Streaming updates"). An environment kind whose rewards can do
// so registers this hook; clients ask for the statistics through it without
// knowing the kind.
struct StreamStatisticsHook {
  // The reward parameter through which a block names the file of its earlier
  // blocks' statistics (dag: "given").
  std::string given_param;
  // The serialized statistics of every row `config` stands for (its own rows
  // and those of its given file), for a config without the federation-level
  // parameters (`temperature`); nullopt when this reward keeps none.
  std::function<absl::StatusOr<std::optional<std::string>>(const Environment&,
                                                           const RewardConfig&)>
      of;
};

// Registers `hook` for rewards of environment kind `kind`; used through
// EPGFN_REGISTER_STREAM_STATISTICS.
bool RegisterStreamStatistics(const std::string& kind,
                              StreamStatisticsHook hook);

// The parameter with which `environment`'s streaming blocks name their
// earlier statistics; empty when its kind registers no hook.
std::string StreamStatisticsParam(const Environment& environment);

// The serialized statistics of every row the reward `config` (as given to
// MakeStreamingInitialReward / MakeStreamingLikelihood) stands for; nullopt
// when the environment's kind or this reward keeps none.
absl::StatusOr<std::optional<std::string>> StreamStatistics(
    const Environment& environment, const RewardConfig& config);

}  // namespace epgfn

// The folder's cc_library must set alwayslink = True and be listed in
// //common/registry:all_environments.
#define EPGFN_REGISTER_STREAM_STATISTICS(kind, hook)      \
  static const bool epgfn_registered_stream_statistics_ = \
      ::epgfn::RegisterStreamStatistics(kind, hook)

#endif  // EPGFN_COMMON_ENV_STREAM_STATISTICS_H_
