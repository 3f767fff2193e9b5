#ifndef EPGFN_SERVER_RPC_PEER_IDENTITY_H_
#define EPGFN_SERVER_RPC_PEER_IDENTITY_H_

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"

namespace epgfn {

// The common name of the verified client certificate (mTLS), which is the
// client id it was issued for. Unauthenticated when the call carries none.
absl::StatusOr<std::string> PeerCommonName(const grpc::ServerContext& context);

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_PEER_IDENTITY_H_
