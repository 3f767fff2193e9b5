// The dag environment's stream statistics (common/env/stream_statistics.h):
// the BGe sufficient statistics of a block and its `given` file.
#include <optional>
#include <string>

#include "common/env/dag/bge_statistics.h"
#include "common/env/dag/dag.h"
#include "common/env/stream_statistics.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

absl::StatusOr<std::optional<std::string>> DagStatisticsOf(
    const Environment& environment, const RewardConfig& config) {
  const auto* dag = dynamic_cast<const DagEnvironment*>(&environment);
  // A standardised block's scale is its own, so no later block can build on
  // it: such a reward keeps nothing (and its updates stay unconditioned).
  if (dag == nullptr || config.kind != "bge" ||
      config.params.GetString("standardize", "0") == "1") {
    return std::nullopt;
  }
  ASSIGN_OR_RETURN(const BgeSufficientStatistics statistics,
                   DagStreamStatistics(*dag, config));
  return SerializeBgeStatistics(statistics);
}

StreamStatisticsHook DagHook() {
  StreamStatisticsHook hook;
  hook.given_param = "given";
  hook.of = DagStatisticsOf;
  return hook;
}

}  // namespace

EPGFN_REGISTER_STREAM_STATISTICS("dag", DagHook());

}  // namespace epgfn
