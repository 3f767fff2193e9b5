// epgfn_health_probe: asks a server's grpc.health.v1 service whether it is
// SERVING, for container health checks and Kubernetes exec probes.
//
//   epgfn_health_probe --server=127.0.0.1:50051 --tls_ca=ca.pem
//     --tls_cert=server.pem --tls_key=server.key --tls_server_name=fed.org
//
// Exit status: 0 SERVING, 1 reachable but not serving (or unknown service),
// 2 unreachable or the check failed (timeout, TLS error), 3 bad flags. One
// line on stdout says which.
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/channel_flags.h"
#include "client/core/channel.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"

ABSL_FLAG(std::string, service, "",
          "Service to check; empty: the server as a whole.");
ABSL_FLAG(double, timeout_seconds, 5.0,
          "Deadline for connecting and the check together.");

namespace {

constexpr int kServing = 0;
constexpr int kNotServing = 1;
constexpr int kUnreachable = 2;
constexpr int kBadFlags = 3;

int Probe() {
  const double timeout_seconds = absl::GetFlag(FLAGS_timeout_seconds);
  if (!(timeout_seconds > 0)) {
    std::fprintf(stderr, "epgfn_health_probe: --timeout_seconds must be > 0\n");
    return kBadFlags;
  }
  // No --rpc_attempts: the deadline bounds the probe, and gRPC's retry of the
  // check (5 attempts, as ChannelOptions has by default) fits inside it.
  absl::StatusOr<epgfn::ChannelOptions> options =
      epgfn::ChannelOptionsFromFlags(epgfn::ChannelFlagsFromCommandLine(
          /*rpc_attempts=*/5));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      options.ok() ? epgfn::MakeChannel(*options) : options.status();
  if (!channel.ok()) {
    std::fprintf(stderr, "epgfn_health_probe: %s\n",
                 channel.status().ToString().c_str());
    return kBadFlags;
  }

  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(timeout_seconds)));
  // Keep trying to connect until the deadline instead of failing on the
  // first refused connection: a probe's timeout is its only budget.
  context.set_wait_for_ready(true);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_service));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status =
      grpc::health::v1::Health::NewStub(*channel)->Check(&context, request,
                                                         &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    // The server is up but does not know the service asked for.
    std::printf("SERVICE_UNKNOWN %s: %s\n", options->target.c_str(),
                status.error_message().c_str());
    return kNotServing;
  }
  if (!status.ok()) {
    std::printf("UNREACHABLE %s: %s (code %d)\n", options->target.c_str(),
                status.error_message().c_str(),
                static_cast<int>(status.error_code()));
    return kUnreachable;
  }
  std::printf("%s %s\n",
              grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                  response.status())
                  .c_str(),
              options->target.c_str());
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? kServing
             : kNotServing;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Exits 0 if the server's grpc.health.v1 service reports SERVING.");
  absl::ParseCommandLine(argc, argv);
  return Probe();
}
