#include "client/core/global_model_check.h"

#include <torch/types.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/env/environment_registry.h"
#include "common/model/model_codec.h"
#include "common/spec/spec_conversion.h"
#include "common/util/status_macros.h"

namespace epgfn {

bool AnnouncementIncludes(const v1::GlobalModelAnnouncement& announcement,
                          const std::string& client_id) {
  return std::find(announcement.client_ids().begin(),
                   announcement.client_ids().end(),
                   client_id) != announcement.client_ids().end();
}

bool AnnouncementIncludes(const v1::GlobalModelAnnouncement& announcement,
                          const std::string& client_id, int64_t round) {
  const auto& ids = announcement.client_ids();
  const auto it = std::find(ids.begin(), ids.end(), client_id);
  if (it == ids.end()) return false;
  if (announcement.client_rounds_size() != ids.size()) return true;
  return announcement.client_rounds(static_cast<int>(it - ids.begin())) >=
         round;
}

absl::Status VerifyGlobalModel(const v1::GlobalModelAnnouncement& announcement,
                               const DownloadResult& download,
                               const v1::FederationSpec& spec) {
  // FederationClient already refuses a stream of another version; a model
  // kept under the wrong name would be worse than none, so check again.
  if (download.version != announcement.version()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the downloaded model is version ", download.version,
                     ", not the announced version ", announcement.version()));
  }
  if (!announcement.payload_sha256().empty() &&
      download.payload_sha256 != announcement.payload_sha256()) {
    return absl::DataLossError(
        "the downloaded model is not the one announced (digest differs)");
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<Environment> environment,
      MakeEnvironment(EnvironmentConfigFromProto(spec.environment())));
  return ImportModel(download.weights, *environment, torch::kCPU).status();
}

std::string GlobalModelPath(const std::string& state_dir, int64_t version) {
  return absl::StrCat(state_dir, "/global_v", version, ".model");
}

}  // namespace epgfn
