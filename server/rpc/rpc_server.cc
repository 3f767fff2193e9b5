#include "server/rpc/rpc_server.h"

#include <glog/logging.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/transfer/payload.h"
#include "common/util/status_macros.h"
#include "server/rpc/listen_address.h"
#include "server/rpc/metrics_interceptor.h"
#include "server/rpc/tls_files.h"

namespace epgfn {
namespace {

// Streamed chunks are at most 1 MiB; the limit leaves room for a few and
// for the other messages, while refusing anything absurd up front.
constexpr int kMaxMessageBytes = 4 * kMaxChunkBytes + (64 << 10);

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const RpcServerOptions& options) {
  if (options.insecure) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      options.mutual_tls()
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ASSIGN_OR_RETURN(
      ServerTlsFiles files,
      LoadServerTlsFiles(options.tls_cert_file, options.tls_key_file,
                         options.tls_client_ca_file));
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  pair.private_key = std::move(files.private_key);
  pair.cert_chain = std::move(files.cert_chain);
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  ssl.pem_root_certs = std::move(files.client_ca);
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::Status RpcServerOptions::Validate() const {
  RETURN_IF_ERROR(ListenAddress::Parse(listen_address, "--listen").status());
  const bool any_tls = !tls_cert_file.empty() || !tls_key_file.empty() ||
                       !tls_client_ca_file.empty();
  if (insecure && any_tls) {
    return absl::InvalidArgumentError(
        "--insecure and the TLS files exclude each other");
  }
  if (!insecure && (tls_cert_file.empty() || tls_key_file.empty())) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate and a key (--tls_cert, --tls_key); "
        "plaintext must be asked for with --insecure");
  }
  if (max_upload_bytes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_upload_bytes must be >= 1, got ", max_upload_bytes));
  }
  if (!insecure) {
    RETURN_IF_ERROR(
        LoadServerTlsFiles(tls_cert_file, tls_key_file, tls_client_ca_file)
            .status());
  }
  return absl::OkStatus();
}

namespace {

// Who may call what, and what the operator should know about it.
void LogAccessPolicy(const RpcServerOptions& options,
                     const FederationAccess& federation_access) {
  if (!federation_access.has_admin_tokens()) {
    LOG(INFO) << "no admin tokens (--admin_tokens_file): GetStatus is "
                 "refused to every caller";
  } else if (options.insecure) {
    LOG(WARNING) << "admin tokens travel in plaintext (--insecure)";
  }
  switch (options.sampler_access.mode) {
    case SamplerAuthMode::kOpen:
      LOG(WARNING) << "*** WARNING: the Sampler service is OPEN "
                      "(--sampler_auth=open): anyone who can reach the port "
                      "can draw samples from the global model. ***";
      break;
    case SamplerAuthMode::kToken:
      if (options.sampler_access.tokens.empty()) {
        LOG(WARNING) << "the Sampler service has no tokens: every Sampler "
                        "call will be refused";
      } else {
        LOG(INFO) << "Sampler access: bearer token ("
                  << options.sampler_access.tokens.size() << " callers)";
      }
      if (options.insecure) {
        LOG(WARNING) << "sampler tokens travel in plaintext (--insecure)";
      }
      break;
    case SamplerAuthMode::kMutualTls:
      LOG(INFO) << "Sampler access: verified client certificate";
      break;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RpcServer>> RpcServer::Start(
    ServerCore* core, const RpcServerOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   MakeCredentials(options));
  FederationServiceOptions service_options;
  service_options.max_upload_bytes = options.max_upload_bytes;
  service_options.require_peer_identity = options.mutual_tls();
  RETURN_IF_ERROR(service_options.Validate());
  if (options.sampler_access.mode == SamplerAuthMode::kMutualTls &&
      !options.mutual_tls()) {
    return absl::InvalidArgumentError(
        "sampler access by client certificate (mtls) needs a client CA");
  }
  std::unique_ptr<RpcServer> server(new RpcServer);
  server->core_ = core;
  server->sampler_access_ =
      std::make_unique<SamplerAccess>(options.sampler_access);
  FederationAccessOptions federation_access = options.federation_access;
  federation_access.require_member_certificate = options.mutual_tls();
  const v1::FederationSpec& spec = core->config().spec;
  server->federation_access_ = std::make_unique<FederationAccess>(
      std::move(federation_access), spec.name(),
      std::vector<std::string>(spec.client_ids().begin(),
                               spec.client_ids().end()));
  LogAccessPolicy(options, *server->federation_access_);
  server->federation_ = std::make_unique<FederationService>(
      core, service_options, server->federation_access_.get(),
      server->sampler_access_.get());
  server->sampler_ =
      std::make_unique<SamplerService>(core, server->sampler_access_.get());
  RETURN_IF_ERROR(server->Listen(options.listen_address, credentials));
  return server;
}

absl::Status RpcServer::Listen(
    const std::string& listen_address,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  // Both are process-wide switches that take effect for servers built
  // afterwards.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ASSIGN_OR_RETURN(const ListenAddress address,
                   ListenAddress::Parse(listen_address, "--listen"));
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second server on a port in use
  // would then start and take half of the new connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address.ToString(), credentials, &port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(federation_.get());
  builder.RegisterService(sampler_.get());
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(MakeMetricsInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    // gRPC logs the cause but returns none: find it by binding ourselves.
    absl::Status cause = DiagnoseBind(address);
    if (!cause.ok()) {
      return absl::Status(cause.code(),
                          absl::StrCat("cannot listen on ", cause.message()));
    }
    return absl::UnavailableError(absl::StrCat("cannot listen on ",
                                               address.ToString(),
                                               " (see gRPC's log line above)"));
  }
  return absl::OkStatus();
}

RpcServer::~RpcServer() { Shutdown(absl::Seconds(5)); }

void RpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  // Watch streams otherwise only end at the deadline.
  core_->BeginShutdown();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace epgfn
