#include "client/core/round_statistics.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/env/stream_statistics.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxStatisticsBytes = int64_t{1} << 26;

// Round `record.round()`'s statistics file, checked against its record.
absl::StatusOr<std::string> ReadKept(
    const std::string& state_dir, const client::v1::LocalModelRecord& record) {
  const std::string path = LocalRoundStatisticsPath(state_dir, record.round());
  absl::StatusOr<std::string> bytes =
      ReadFileToString(path, kMaxStatisticsBytes);
  if (!bytes.ok() || Sha256Hex(*bytes) != record.statistics_sha256()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "round ", record.round(), "'s statistics ", path,
        " are missing or do not match its record; an exact update needs "
        "them (roll back to a round that has them, or name given= yourself "
        "after restoring the file)"));
  }
  return bytes;
}

}  // namespace

std::string LocalRoundStatisticsPath(const std::string& state_dir,
                                     int64_t round) {
  return absl::StrCat(state_dir, "/local_round_", round, ".stats");
}

absl::StatusOr<std::string> KeepRoundStatistics(const Environment& environment,
                                                const RewardConfig& last_block,
                                                const std::string& state_dir,
                                                int64_t round) {
  ASSIGN_OR_RETURN(const std::optional<std::string> statistics,
                   StreamStatistics(environment, last_block));
  if (!statistics.has_value()) return std::string();
  RETURN_IF_ERROR(MakeDirectories(state_dir));
  RETURN_IF_ERROR(WriteFileAtomically(
      LocalRoundStatisticsPath(state_dir, round), *statistics));
  return Sha256Hex(*statistics);
}

absl::StatusOr<RewardConfig> ConditionOnBaseStatistics(
    const Environment& environment, const RewardConfig& update,
    const std::string& state_dir, const client::v1::LocalModelRecord& base) {
  const std::string param = StreamStatisticsParam(environment);
  if (param.empty() || base.statistics_sha256().empty()) return update;
  ASSIGN_OR_RETURN(const std::string held, ReadKept(state_dir, base));
  const std::string held_path =
      LocalRoundStatisticsPath(state_dir, base.round());
  if (update.params.Has(param)) {
    const std::string named = update.params.GetString(param, "");
    absl::StatusOr<std::string> theirs =
        ReadFileToString(named, kMaxStatisticsBytes);
    if (!theirs.ok() || *theirs != held) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--update_reward '", update.ToString(), "' names ", param, "=", named,
          ", but the statistics of every row of the base round ", base.round(),
          " are ", held_path, " and ",
          theirs.ok() ? "they differ" : theirs.status().ToString(), "; leave ",
          param, "= out and the client conditions on its own"));
    }
    return update;
  }
  std::map<std::string, std::string> values = update.params.values();
  values[param] = held_path;
  RewardConfig conditioned = update;
  conditioned.params = ParamMap(std::move(values));
  return conditioned;
}

absl::Status CopyRoundStatistics(
    const std::string& state_dir,
    const client::v1::LocalModelRecord& from_record, int64_t to) {
  if (from_record.statistics_sha256().empty()) return absl::OkStatus();
  absl::StatusOr<std::string> kept = ReadKept(state_dir, from_record);
  if (!kept.ok()) return absl::NotFoundError(kept.status().message());
  return WriteFileAtomically(LocalRoundStatisticsPath(state_dir, to), *kept);
}

}  // namespace epgfn
