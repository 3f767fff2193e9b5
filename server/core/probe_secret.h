#ifndef EPGFN_SERVER_CORE_PROBE_SECRET_H_
#define EPGFN_SERVER_CORE_PROBE_SECRET_H_

#include <string>

#include "absl/status/statusor.h"

namespace epgfn {

// The server's secret for seeding upload probes (see ProbeSeed): 32 random
// bytes in <state_dir>/probe_secret (mode 0600), created at the first start
// and read back afterwards, so that one payload is probed the same way
// across restarts but no client can predict the probe states. DataLoss
// (naming the file) when the file exists with another size.
absl::StatusOr<std::string> LoadOrCreateProbeSecret(
    const std::string& state_dir);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_PROBE_SECRET_H_
