#ifndef EPGFN_COMMON_ENV_CLIENT_SHARE_H_
#define EPGFN_COMMON_ENV_CLIENT_SHARE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/util/param_map.h"

namespace epgfn {

// Which part of a split target a client reward stands for: the shared
// `index=i,count=N` parameters of every environment's "client" reward kind,
// so that all environments spell and check them the same way.
struct ClientShare {
  int64_t index = 0;
  int64_t count = 1;
};

// Reads `count` (default 1) and `index` (default 0, below count).
absl::StatusOr<ClientShare> ReadClientShare(const ParamMap& params);

// Reads the optional non-negative `seed` of seeded rewards and splits
// (default 0).
absl::StatusOr<int64_t> ReadRewardSeed(const ParamMap& params);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_CLIENT_SHARE_H_
