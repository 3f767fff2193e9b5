#ifndef EPGFN_SERVER_TESTING_RPC_CLIENT_H_
#define EPGFN_SERVER_TESTING_RPC_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <string>

#include "proto/federation.grpc.pb.h"
#include "server/core/federation_access.h"

namespace epgfn {
namespace test_support {

struct UploadOutcome {
  grpc::Status status;
  v1::UploadResponse response;
};

// Uploads `payload` as a header (announcing its true size and digest)
// followed by 1 MiB chunks; `tamper` may rewrite the chunk list first.
UploadOutcome Upload(
    v1::Federation::Stub& stub, const std::string& client_id,
    const std::string& spec_digest, int64_t round, const std::string& payload,
    const std::function<void(std::vector<v1::UploadChunk>&)>& tamper = nullptr);

struct Download {
  grpc::Status status;
  v1::DownloadHeader header;
  std::string payload;
};

Download DownloadModel(v1::Federation::Stub& stub, int64_t version);

// GetStatus is for operators: servers in tests take TestAdminAccess() as
// RpcServerOptions::federation_access, and calls add the token with
// AddAdminToken.
std::string TestAdminToken();
FederationAccessOptions TestAdminAccess();
void AddAdminToken(grpc::ClientContext& context);

}  // namespace test_support
}  // namespace epgfn

#endif  // EPGFN_SERVER_TESTING_RPC_CLIENT_H_
