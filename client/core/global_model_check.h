#ifndef EPGFN_CLIENT_CORE_GLOBAL_MODEL_CHECK_H_
#define EPGFN_CLIENT_CORE_GLOBAL_MODEL_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "client/core/federation_client.h"
#include "proto/federation.pb.h"
#include "proto/federation_spec.pb.h"

namespace epgfn {

// True when the global model `announcement` announces aggregates the upload
// of `client_id`.
bool AnnouncementIncludes(const v1::GlobalModelAnnouncement& announcement,
                          const std::string& client_id);
// ... and aggregates its round `round` or a newer one. A server that does not
// announce rounds (client_rounds empty) is taken at its word for any round.
bool AnnouncementIncludes(const v1::GlobalModelAnnouncement& announcement,
                          const std::string& client_id, int64_t round);

// What a client checks before keeping a downloaded global model: that it is
// the announced version, that its bytes are the announced ones (when the
// announcement quotes a SHA-256: DataLoss otherwise), and that the weights
// build a policy on the federation's state graph.
absl::Status VerifyGlobalModel(const v1::GlobalModelAnnouncement& announcement,
                               const DownloadResult& download,
                               const v1::FederationSpec& spec);

// Where a client keeps global model `version` under its state directory.
std::string GlobalModelPath(const std::string& state_dir, int64_t version);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_GLOBAL_MODEL_CHECK_H_
