#ifndef EPGFN_SERVER_TESTING_SAMPLER_SERVER_H_
#define EPGFN_SERVER_TESTING_SAMPLER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/sampler.grpc.pb.h"
#include "server/core/sampler_access.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"

namespace epgfn {
namespace test_support {

// Runs deploy/gen_certs.sh (a CA, a server certificate for
// localhost/127.0.0.1, one client certificate per id) into a fresh directory
// and returns it.
absl::StatusOr<std::string> GenerateCertificates(
    const std::vector<std::string>& client_ids);

// A token as `openssl rand -hex 32` prints it, from a fixed seed.
std::string TestToken(int seed);

// Writes `text` to a fresh file and returns its path.
std::string WriteTestFile(const std::string& name, const std::string& text);

// A real server over TLS on 127.0.0.1 with one published global model (an
// untrained 4x4 hypergrid policy, version 1), ready to sample from.
struct SamplerServer {
  std::string certs;
  std::unique_ptr<ServerCore> core;
  std::unique_ptr<RpcServer> server;

  ~SamplerServer();
  // A channel over TLS that trusts the test CA and presents the certificate
  // of `client_id` (none when empty).
  std::shared_ptr<grpc::Channel> Channel(const std::string& client_id) const;
};

// `mutual_tls`: the server verifies client certificates against the test CA
// (which then every call needs at the handshake).
absl::StatusOr<std::unique_ptr<SamplerServer>> StartSamplerServer(
    const std::string& certs, bool mutual_tls,
    SamplerAccessOptions sampler_access);

}  // namespace test_support
}  // namespace epgfn

#endif  // EPGFN_SERVER_TESTING_SAMPLER_SERVER_H_
