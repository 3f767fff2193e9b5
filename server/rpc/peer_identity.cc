#include "server/rpc/peer_identity.h"

#include <grpcpp/security/auth_context.h>

#include <memory>
#include <vector>

namespace epgfn {

absl::StatusOr<std::string> PeerCommonName(const grpc::ServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("the call carries no client certificate");
  }
  std::vector<grpc::string_ref> names =
      auth->FindPropertyValues("x509_common_name");
  if (names.size() != 1) {
    return absl::UnauthenticatedError(
        "the client certificate has no single common name");
  }
  return std::string(names[0].data(), names[0].size());
}

}  // namespace epgfn
