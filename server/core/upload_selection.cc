#include "server/core/upload_selection.h"

#include "absl/strings/str_cat.h"

namespace epgfn {

std::optional<std::string> ExclusionReason(
    const std::optional<LocalDiagnostics>& diagnostics,
    const ExclusionLimits& limits) {
  if (!limits.any()) return std::nullopt;
  if (!diagnostics) return std::string("no diagnostics reported");
  // !(x <= limit) also catches a NaN the client reported.
  if (limits.max_alpha > 0.0 && !(diagnostics->alpha <= limits.max_alpha)) {
    return absl::StrCat("alpha ", diagnostics->alpha, " > max_alpha ",
                        limits.max_alpha);
  }
  if (limits.max_beta > 0.0 && !(diagnostics->beta <= limits.max_beta)) {
    return absl::StrCat("beta ", diagnostics->beta, " > max_beta ",
                        limits.max_beta);
  }
  return std::nullopt;
}

UploadSelection SelectUploads(const UploadMap& uploads,
                              const ExclusionLimits& limits) {
  UploadSelection selection;
  for (const auto& [client_id, upload] : uploads) {
    std::optional<std::string> reason =
        ExclusionReason(upload->diagnostics, limits);
    if (reason) {
      selection.excluded.push_back(
          ExcludedUpload{client_id, upload->round, *std::move(reason)});
    } else {
      selection.included.emplace(client_id, upload);
    }
  }
  return selection;
}

}  // namespace epgfn
