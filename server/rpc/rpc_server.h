#ifndef EPGFN_SERVER_RPC_RPC_SERVER_H_
#define EPGFN_SERVER_RPC_RPC_SERVER_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/federation_access.h"
#include "server/core/sampler_access.h"
#include "server/core/server_core.h"
#include "server/rpc/federation_service.h"
#include "server/rpc/sampler_service.h"

namespace epgfn {

struct RpcServerOptions {
  // host:port; port 0 picks a free one (see RpcServer::port()).
  std::string listen_address = "127.0.0.1:50051";
  // PEM files. Certificate and key enable TLS; a client CA additionally
  // requires and verifies client certificates (mTLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Plaintext; must be asked for explicitly and excludes the TLS files.
  bool insecure = false;
  int64_t max_upload_bytes = int64_t{256} << 20;
  // Who may call the Sampler service. Left as is, token mode without tokens:
  // every Sampler call is refused (set it from SamplerAccessOptions::Create,
  // or SamplerAccessOptions::Open() in tests that mean it).
  SamplerAccessOptions sampler_access;
  // Who may call the Federation service: the admin tokens of GetStatus (set
  // from FederationAccessOptions::Create). Member checks follow mutual_tls()
  // whatever require_member_certificate says here.
  FederationAccessOptions federation_access;

  bool mutual_tls() const { return !tls_client_ca_file.empty(); }

  // The transport fields, as the server's flags fill them: a listen address
  // that parses, either `insecure` or a certificate and key (never both),
  // max_upload_bytes >= 1. The TLS files are loaded here too, so that a bad
  // key stops the server before it recovers its state.
  absl::Status Validate() const;
};

// The gRPC server: Federation and Sampler services over one ServerCore, plus
// the standard health and reflection services.
class RpcServer {
 public:
  // Listening when this returns. `core` must outlive the server. Checks
  // `options` (Validate) first: InvalidArgument for bad transport fields.
  static absl::StatusOr<std::unique_ptr<RpcServer>> Start(
      ServerCore* core, const RpcServerOptions& options);
  ~RpcServer();

  // The bound port (useful when listening on port 0).
  int port() const { return port_; }
  // The Sampler's access decisions and refusal counts.
  const SamplerAccess& sampler_access() const { return *sampler_access_; }
  // Ends watch streams, then lets in-flight calls finish for up to
  // `grace` before cancelling them. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  RpcServer() = default;
  // Builds and starts the gRPC server over the services made by Start().
  absl::Status Listen(const std::string& listen_address,
                      std::shared_ptr<grpc::ServerCredentials> credentials);

  ServerCore* core_ = nullptr;
  std::unique_ptr<SamplerAccess> sampler_access_;
  std::unique_ptr<FederationAccess> federation_access_;
  std::unique_ptr<FederationService> federation_;
  std::unique_ptr<SamplerService> sampler_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_RPC_SERVER_H_
