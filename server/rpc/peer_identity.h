#ifndef EPGFN_SERVER_RPC_PEER_IDENTITY_H_
#define EPGFN_SERVER_RPC_PEER_IDENTITY_H_

#include <grpcpp/server_context.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/bearer_tokens.h"

namespace epgfn {

// The identity a verified client certificate was issued for: its subject
// common name when it has exactly one, otherwise (no CN at all) its first DNS
// subject alternative name, in certificate order. A certificate with several
// CNs, or with neither a CN nor a DNS SAN, has no identity.
absl::StatusOr<std::string> CertificateIdentity(
    const std::vector<std::string>& common_names,
    const std::vector<std::string>& dns_names);

// CertificateIdentity of the call's verified client certificate (mTLS).
// Unauthenticated when the call carries none.
absl::StatusOr<std::string> PeerIdentity(const grpc::ServerContext& context);

// What the call carries for access decisions: its authorization metadata,
// its certificate identity (when verified) and the peer address.
CallCredentials CallCredentialsOf(const grpc::ServerContext& context);

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_PEER_IDENTITY_H_
