#ifndef EPGFN_CLIENT_CORE_CHANNEL_H_
#define EPGFN_CLIENT_CORE_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace epgfn {

// How a client reaches the server. Exactly one of: insecure; TLS (ca_pem_path
// only: the server is authenticated); mutual TLS (ca_pem_path plus
// cert_pem_path and key_pem_path: the client is authenticated too, by the
// common name of its certificate).
struct ChannelOptions {
  std::string target;  // "host:port"
  bool insecure = false;
  std::string ca_pem_path;
  std::string cert_pem_path;
  std::string key_pem_path;
  // Overrides the name checked against the server certificate (for servers
  // reached by an address their certificate does not list).
  std::string tls_server_name;
  // Set explicitly rather than relying on gRPC's 4 MiB receive default:
  // models travel in <= 1 MiB chunks, so this only bounds a single message.
  int max_message_bytes = 8 << 20;
  // gRPC's own retry for the unary calls (Federation.GetSpec,
  // Federation.GetStatus, Sampler.ListModels), set as the channel's JSON
  // service config together with waitForReady: a unary call waits for the
  // connection until its deadline and is retried by gRPC on UNAVAILABLE with
  // exponential backoff and jitter. 1: no retry. gRPC caps it at 5.
  // Streams are not covered: gRPC stops retrying a call once a message has
  // been exchanged, so uploads, downloads, watches and Sample keep the
  // project's own RetryWithBackoff (retry.h).
  int unary_max_attempts = 5;
  absl::Duration unary_initial_backoff = absl::Milliseconds(250);
  absl::Duration unary_max_backoff = absl::Seconds(8);
  double unary_backoff_multiplier = 2.0;

  absl::Status Validate() const;
};

// The address and TLS flags every client binary takes (--server,
// --insecure, --tls_ca, --tls_cert, --tls_key, --tls_server_name,
// --rpc_attempts), mapped here once so the binaries agree.
struct ChannelFlags {
  std::string server;
  bool insecure = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
  int rpc_attempts = 6;
};
absl::StatusOr<ChannelOptions> ChannelOptionsFromFlags(
    const ChannelFlags& flags);

// The service config MakeChannel installs (exposed for tests and docs).
std::string UnaryServiceConfigJson(const ChannelOptions& options);

// A bearer token from a file (surrounding whitespace removed); `what` names
// the file in errors ("admin token file"), which never show the token.
absl::StatusOr<std::string> ReadBearerTokenFile(const std::string& path,
                                                const std::string& what);

// gRPC's deadline-exceeded as this project reports it: UNAVAILABLE when the
// channel never connected (nothing was sent, so retrying later is safe),
// else the status as it is.
absl::Status UnaryCallStatus(grpc::Channel& channel, absl::Status status);

// Reads the PEM files and builds the channel (it connects lazily).
// InvalidArgument for inconsistent options, NotFound for a missing file.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ChannelOptions& options);

// Waits until `channel` is connected or `timeout` passes. A failure here is
// reported as UNAVAILABLE (retryable: no RPC has been sent yet, so retrying
// cannot duplicate anything), with the last connection error gRPC saw,
// unless that error is a TLS failure that no retry can mend (see
// PermanentTlsFailure): that one is FAILED_PRECONDITION, so callers stop.
absl::Status WaitForChannel(grpc::Channel& channel, absl::Duration timeout);

// When `grpc_message` (a connection error as gRPC words it) is a permanent
// TLS failure, what went wrong in the operator's terms, naming the flag to
// fix: the server's certificate is not signed by --tls_ca, does not name
// the host (--tls_server_name), or the server refused this client's
// certificate. Empty otherwise.
std::string PermanentTlsFailure(absl::string_view grpc_message);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_CHANNEL_H_
