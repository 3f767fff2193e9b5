#ifndef EPGFN_CLIENT_CORE_ROUND_STATISTICS_H_
#define EPGFN_CLIENT_CORE_ROUND_STATISTICS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/core/local_state.pb.h"
#include "common/env/environment.h"
#include "common/env/environment_config.h"

namespace epgfn {

// A streaming client keeps, beside each round's model, the stream statistics
// (common/env/stream_statistics.h; for BGe: row count, mean and scatter) of
// every row that round's model has seen, so that the next update is scored
// exactly conditioned on them without the operator keeping a file by hand.
// Rewards that keep none (anything but BGe) write nothing.

// local_round_<round>.stats under the state dir.
std::string LocalRoundStatisticsPath(const std::string& state_dir,
                                     int64_t round);

// Writes round `round`'s statistics when its reward keeps any: `last_block`
// is the reward its last block was trained on (the first reward, or an
// update conditioned by ConditionOnBaseStatistics, whose statistics then
// include the base round's). Returns their SHA-256 for the round's record;
// empty when none are kept.
absl::StatusOr<std::string> KeepRoundStatistics(const Environment& environment,
                                                const RewardConfig& last_block,
                                                const std::string& state_dir,
                                                int64_t round);

// An update's reward conditioned on the statistics the base round keeps:
// one that names no statistics (dag: `given=`) gets the base round's file;
// one that names a file is honoured when it holds the same bytes and refused
// (InvalidArgument naming both files) otherwise. Unchanged when the base
// keeps none. FailedPrecondition when the base's file is missing or does
// not match its record.
absl::StatusOr<RewardConfig> ConditionOnBaseStatistics(
    const Environment& environment, const RewardConfig& update,
    const std::string& state_dir, const client::v1::LocalModelRecord& base);

// A rollback to round `from` as round `to`: round `to` keeps round `from`'s
// statistics (`from_record`'s), so that the next update builds on them.
// Nothing when `from` keeps none; NotFound when its file is not intact.
absl::Status CopyRoundStatistics(
    const std::string& state_dir,
    const client::v1::LocalModelRecord& from_record, int64_t to);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_ROUND_STATISTICS_H_
