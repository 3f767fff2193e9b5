#include "common/env/client_share.h"

#include <limits>

#include "common/util/status_macros.h"

namespace epgfn {

// Far more clients than any federation has, but small enough that index
// arithmetic in the environments cannot overflow.
constexpr int64_t kMaxClients = int64_t{1} << 20;

absl::StatusOr<ClientShare> ReadClientShare(const ParamMap& params) {
  ClientShare share;
  ASSIGN_OR_RETURN(share.count, params.GetInt("count", 1, 1, kMaxClients));
  ASSIGN_OR_RETURN(share.index, params.GetInt("index", 0, 0, share.count - 1));
  return share;
}

absl::StatusOr<int64_t> ReadRewardSeed(const ParamMap& params) {
  return params.GetInt("seed", 0, 0, std::numeric_limits<int64_t>::max());
}

}  // namespace epgfn
