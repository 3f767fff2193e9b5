#ifndef EPGFN_SERVER_CORE_UPLOAD_SELECTION_H_
#define EPGFN_SERVER_CORE_UPLOAD_SELECTION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/core/federation_config.h"
#include "server/core/upload_store.h"

namespace epgfn {

// An accepted upload that the exclusion policy leaves out of aggregation.
struct ExcludedUpload {
  std::string client_id;
  int64_t round = 0;
  // e.g. "alpha 0.93 > max_alpha 0.5".
  std::string reason;
};

struct UploadSelection {
  UploadMap included;
  std::vector<ExcludedUpload> excluded;  // by client id
};

// Why `diagnostics` fall outside `limits`; nullopt when they are within
// them (always, when no limit is set). With a limit set, missing diagnostics
// are a reason: the client cannot show that it is within the limit.
std::optional<std::string> ExclusionReason(
    const std::optional<LocalDiagnostics>& diagnostics,
    const ExclusionLimits& limits);

// Splits the accepted uploads into those to aggregate and those excluded by
// the federation's exclusion policy.
UploadSelection SelectUploads(const UploadMap& uploads,
                              const ExclusionLimits& limits);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_UPLOAD_SELECTION_H_
