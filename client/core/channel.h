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

  absl::Status Validate() const;
};

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
